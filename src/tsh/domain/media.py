"""Uploaded media (core.md §2.2 `media`): photos and PDFs referenced by `media_id(s)`.

The type is sniffed from the file's first bytes (the client's Content-Type is not trusted); the
file is stored under the media directory by a random key, never by a client-chosen name.
Reading is the uploader's; record-based access (users who may read a record that references
the media) is not implemented yet.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.identity.models import Media
from tsh.platform.errors import Invalid, NotFound, field_error

# content type → file extension, for the types the apps upload.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


def sniff(data: bytes) -> str | None:
    """The content type from the magic bytes, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _path(media_dir: str, storage_key: str) -> Path:
    root = Path(media_dir).resolve()
    path = (root / storage_key[:2] / storage_key).resolve()
    if root not in path.parents:  # keys are ours, but never leave the directory
        raise NotFound()
    return path


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


async def store_media(session: AsyncSession, *, media_dir: str, data: bytes, uploaded_by_id: int) -> Media:
    """Store an upload and add its Media row (url `/api/media/{id}`).

    422 VALIDATION_ERROR for an empty file; 422 UNSUPPORTED_MEDIA_TYPE unless jpeg, png, webp or
    pdf. The file is written before the row is flushed and removed again if the flush fails; a
    later rollback of the caller's unit of work can leave an orphan file (never a row without one).
    """
    if not data:
        raise Invalid(details=[field_error("file", "empty file")])
    content_type = sniff(data)
    if content_type is None:
        raise Invalid(
            "Only jpeg, png, webp or pdf files are accepted",
            code="UNSUPPORTED_MEDIA_TYPE",
            details=[field_error("file", "not a jpeg, png, webp or pdf file")],
        )
    key = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
    path = _path(media_dir, key)
    await asyncio.to_thread(_write, path, data)
    try:
        row = Media(
            uploaded_by_id=uploaded_by_id, content_type=content_type, size=len(data), storage_key=key, url=""
        )
        session.add(row)
        await session.flush()
        row.url = f"/api/media/{row.id}"
        await session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return row


async def open_media(
    session: AsyncSession, *, media_dir: str, media_id: int, user_id: int
) -> tuple[Media, Path]:
    """The caller's own upload and its file; 404 for anyone else's, unknown ids and lost files."""
    row = await session.scalar(select(Media).where(Media.id == media_id, Media.uploaded_by_id == user_id))
    if row is None:
        raise NotFound()
    path = _path(media_dir, row.storage_key)
    if not path.is_file():
        raise NotFound()
    return row, path
