"""Idempotency-Key semantics (docs/contract/README.md, "Writes"), kept in the database.

The record is claimed in its own short transaction before the action runs, so a concurrent
duplicate (another worker process included) meets the unique (user, key) row and gets 409
REQUEST_IN_PROGRESS, exactly one execution happens, and a finished first response (2xx or 4xx)
is replayed byte for byte. A 5xx is not kept: the claim is released so a retry runs again.

Expired records are deleted by the hourly `purge_idempotency_keys` job (tsh.domain.jobs), not on
the request path; until then a claim treats an expired record as absent, so a late purge never
changes an answer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import ForeignKey, Index, LargeBinary, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tsh.platform.db.base import Base, TimestampMixin, utcnow
from tsh.platform.db.engine import Database
from tsh.platform.errors import AppError, Conflict, Invalid

RETENTION = timedelta(hours=72)
# A claim older than this whose request never finished (process killed) may be taken over.
ABANDONED_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 200


class IdempotencyRecord(TimestampMixin, Base):
    """The first response to a (user, Idempotency-Key), replayed for retries for 72 hours."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(String(300), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, default="in_progress")
    response_status: Mapped[int | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (
        Index("ix_idempotency_records_expires_at", "expires_at"),
        Index("uq_idempotency_records_user_key", "user_id", "key", unique=True),
    )


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: bytes


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Same JSON body in another key order or spacing is the same request."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


# 1..200 printable ASCII characters, no surrounding space: what the OpenAPI document declares
# (IDEMPOTENCY_KEY_SCHEMA), so a client generator and the server agree on every key.
_KEY = re.compile(r"[!-~]([ -~]*[!-~])?")


def validate_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
        raise AppError(
            "Idempotency-Key must be 1..200 printable ASCII characters", code="VALIDATION_ERROR", status=422
        )
    return key


async def purge_expired_records(session: AsyncSession, *, now: datetime) -> int:
    """Delete the records past their 72 h (the job's work; the caller commits). Returns how many."""
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self, *, user_id: int, key: str, method: str, path: str, request_hash: str
    ) -> Replay | None:
        """Claim the key for this request, or return the stored response to replay."""
        now = utcnow()
        for _attempt in range(3):
            async with self._db.command_session() as session:
                session.add(
                    IdempotencyRecord(
                        user_id=user_id,
                        key=key,
                        method=method,
                        path=path,
                        request_hash=request_hash,
                        state="in_progress",
                        expires_at=now + RETENTION,
                    )
                )
                try:
                    await session.commit()
                    return None
                except IntegrityError:
                    await session.rollback()
                found = (
                    await session.execute(
                        select(IdempotencyRecord).where(
                            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                        )
                    )
                ).scalar_one_or_none()
                if found is None:
                    continue  # released between our insert and select: try again
                stale = found.expires_at <= now or (
                    found.state == "in_progress" and found.created_at <= now - ABANDONED_AFTER
                )
                if stale:
                    await session.delete(found)
                    await session.commit()
                    continue
                if found.request_hash != request_hash:
                    raise Invalid(
                        "This Idempotency-Key was used for another request", code="IDEMPOTENCY_KEY_REUSED"
                    )
                if found.state != "completed" or found.response_status is None:
                    raise Conflict(
                        "The first request with this key is still running", code="REQUEST_IN_PROGRESS"
                    )
                return Replay(status=found.response_status, body=found.response_body or b"")
        raise Conflict("The first request with this key is still running", code="REQUEST_IN_PROGRESS")

    async def complete(self, *, user_id: int, key: str, status: int, body: bytes) -> None:
        async with self._db.command_session() as session:
            record = (
                await session.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                    )
                )
            ).scalar_one_or_none()
            if record is not None:
                record.state = "completed"
                record.response_status = status
                record.response_body = body
                await session.commit()

    async def release(self, *, user_id: int, key: str) -> None:
        async with self._db.command_session() as session:
            await session.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            )
            await session.commit()
