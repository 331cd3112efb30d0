"""Partial screens (contract mobile.md §3): a screen built from several sources declares them as
sections; an optional section that fails or runs out of time leaves the rest of the screen standing.

How a section runs, and why:
- **One after the other, on the screen's own session.** Every section today is a local query;
  on these machines a few queries in sequence on one connection beat a fan-out over several
  (PERFORMANCE.md: 470 against 235 req/s), SQLite gains nothing from concurrency, and a fan-out
  would multiply the connections a screen holds from a pool without overflow. One AsyncSession
  cannot run two statements at once anyway. Declare the required and cheap sections first.
- **Budget:** each section gets `budget_ms`, capped by what is left of the request's deadline
  (`X-Request-Deadline`, counted from the request's start, minus a safety margin for shaping
  and sending). A section with no time left is not started at all.
- **A section that times out or fails** has its statement cancelled and the session's
  connection invalidated (closed, never returned to the pool), so the next section and the
  rest of the request get a fresh connection rather than one with a query still running or an
  aborted transaction. On SQLite the driver's thread finishes the statement before closing.
- **Last good value:** an optional section's ok value is kept in the screen cache back end
  (in-process or Redis, through ctx.cache) under endpoint + caller identity + parameters +
  section, with its time; a later failure answers it as `stale` with `age_s`, else `null`.
  It carries no event tags on purpose: it is shown flagged as stale, and a write must not
  turn a stale figure into a blank one.
- **A required section** (the screen means nothing without it) fails the request: its own
  error, or 503 SECTION_TIMEOUT. A business error (an AppError such as a 404) is an answer,
  not a failure, and always propagates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from tsh.platform.cache.backend import CacheBackend, CacheError, Entry
from tsh.platform.db import Session
from tsh.platform.errors import AppError
from tsh.platform.http.json import dumps
from tsh.platform.metrics import SECTION_LATENCY, SECTIONS

log = logging.getLogger("tsh.bff.sections")

Status = Literal["ok", "stale", "timeout", "error"]
DEFAULT_BUDGET_MS = 2000
# Time kept back from the client's deadline for shaping, encoding and sending the answer.
DEADLINE_MARGIN_S = 0.05
# How long a last good value may be served as stale (then the section answers null).
LAST_GOOD_TTL_S = 24 * 3600
MAX_DEADLINE_MS = 600_000


@dataclass(frozen=True, slots=True)
class Section:
    """One source of a screen: `fn(session)` gives its value."""

    fn: Callable[[Session], Awaitable[Any]]
    budget_ms: int = DEFAULT_BUDGET_MS
    required: bool = False


def parse_deadline(raw: str | None, started: float) -> float | None:
    """The `time.perf_counter()` instant sections must be done by, from `X-Request-Deadline: <ms>`
    (the time the app still waits). A malformed value is ignored: the header is advice, and a
    screen must not fail because of it."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7:
        return None
    ms = int(raw)
    if ms <= 0 or ms > MAX_DEADLINE_MS:
        return None
    return started + ms / 1000 - DEADLINE_MARGIN_S


@dataclass
class SectionRun:
    """The sections of one screen request: runs them and records what happened to each."""

    endpoint: str
    session: Session
    cache: CacheBackend
    key_base: Callable[[], Awaitable[str]]
    deadline: float | None
    statuses: dict[str, dict[str, Any]]

    async def run(self, parts: Mapping[str, Section]) -> dict[str, Any]:
        return {name: await self._one(name, part) for name, part in parts.items()}

    def _limit_s(self, part: Section) -> float:
        limit = part.budget_ms / 1000
        if self.deadline is not None:
            limit = min(limit, self.deadline - time.perf_counter())
        return limit

    async def _one(self, name: str, part: Section) -> Any:
        limit = self._limit_s(part)
        started = time.perf_counter()
        status: Status
        try:
            if limit <= 0:
                raise TimeoutError
            value = await asyncio.wait_for(part.fn(self.session), limit)
        except AppError:
            raise
        except TimeoutError as exc:
            status = "timeout"
            if limit > 0:
                await self._discard_connection()
            if part.required:
                self._record(name, status)
                raise AppError(
                    "A part of this screen did not answer in time", code="SECTION_TIMEOUT", status=503
                ) from exc
        except Exception:
            status = "error"
            log.exception("section %s of %s failed", name, self.endpoint)
            await self._discard_connection()
            if part.required:
                self._record(name, status)
                raise
        else:
            self._record(name, "ok")
            if not part.required:
                await self._keep(name, value)
            return value
        finally:
            SECTION_LATENCY.labels(self.endpoint, name).observe(time.perf_counter() - started)
        return await self._fallback(name, status)

    def _record(self, name: str, status: Status, age_s: int | None = None) -> None:
        self.statuses[name] = {"status": status} if age_s is None else {"status": status, "age_s": age_s}
        SECTIONS.labels(self.endpoint, name, status).inc()

    async def _discard_connection(self) -> None:
        try:
            await self.session.invalidate()
        except Exception:  # the connection is going away either way
            log.warning("could not invalidate the session of %s", self.endpoint, exc_info=True)

    async def _key(self, name: str) -> str:
        return f"sec:{await self.key_base()}:{name}"

    async def _keep(self, name: str, value: Any) -> None:
        try:
            key = await self._key(name)
            generation = await self.cache.generation()
            await self.cache.set(key, Entry.build(dumps(value)), LAST_GOOD_TTL_S, (), generation)
        except CacheError:
            pass  # only the fallback of a later failure is lost

    async def _fallback(self, name: str, status: Status) -> Any:
        try:
            entry = await self.cache.get(await self._key(name))
        except CacheError:
            entry = None
        if entry is None:
            self._record(name, status)
            return None
        self._record(name, "stale", entry.age_s())
        return orjson.loads(entry.value)
