"""`POST /api/media` (multipart upload, field `file`) and `GET /api/media/{id}` (core.md §2.2).

Any authenticated user uploads; the body limit (1 MiB) is the middleware's. The answer is
`{id, url}`. Reading streams the file to its uploader only (404 for everyone else): access for
users who may read a record referencing the media is not implemented.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response

from tsh.api.legacy.http import context, path_id, principal_of, run_write
from tsh.domain.media import open_media, store_media
from tsh.platform.errors import Invalid, field_error


async def _upload_bytes(request: Request) -> bytes:
    try:
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise Invalid(details=[field_error("file", "a multipart file field named file is required")])
            return await upload.read()
    except HTTPException:  # malformed multipart body
        raise Invalid(details=[field_error("file", "malformed multipart body")]) from None


def add_media_routes(router: APIRouter) -> None:
    async def upload(request: Request) -> Response:
        principal = await principal_of(request)
        media_dir = context(request).settings.media_dir

        async def action(session: AsyncSession, raw: bytes) -> Any:
            data = await _upload_bytes(request)
            row = await store_media(session, media_dir=media_dir, data=data, uploaded_by_id=principal.user_id)
            return {"id": row.id, "url": row.url}

        return await run_write(request, principal, action, status=201, key_required=False)

    async def download(request: Request) -> Response:
        principal = await principal_of(request)
        id_ = path_id(request)
        ctx = context(request)
        async with ctx.db.session() as session:
            row, path = await open_media(
                session, media_dir=ctx.settings.media_dir, media_id=id_, user_id=principal.user_id
            )
        return FileResponse(
            path,
            media_type=row.content_type,
            headers={
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": "inline",
            },
        )

    router.add_api_route(
        "/api/media", upload, methods=["POST"], tags=["media"], summary="Upload a media file"
    )
    router.add_api_route(
        "/api/media/{id}", download, methods=["GET"], tags=["media"], summary="Download own media file"
    )
