"""Running a write under the Idempotency-Key semantics: one function for the BFF actions and the
legacy API writes alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from tsh.platform.errors import AppError
from tsh.platform.http.handlers import error_response
from tsh.platform.idempotency import IdempotencyStore, fingerprint, validate_key

JSON = "application/json"


def idempotency_key(request: Request, *, required: bool) -> str | None:
    """The request's key; 400 IDEMPOTENCY_KEY_REQUIRED when the row requires one and it is missing."""
    raw = request.headers.get("idempotency-key")
    if raw is None:
        if required:
            raise AppError(
                "This write needs an Idempotency-Key header", code="IDEMPOTENCY_KEY_REQUIRED", status=400
            )
        return None
    return validate_key(raw)


async def run_idempotent(
    request: Request,
    store: IdempotencyStore,
    *,
    user_id: int,
    key: str | None,
    body: bytes,
    execute: Callable[[], Awaitable[tuple[int, bytes]]],
    on_replay: Callable[[], None] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Run `execute` once per (user, key): replay the stored first answer (2xx or 4xx) for a retry,
    keep a 4xx, release the claim on a 5xx so a retry runs again."""
    if key is None:
        status, payload = await execute()
        return Response(payload, status_code=status, media_type=JSON, headers=headers)
    path = request.url.path
    replay = await store.claim(
        user_id=user_id,
        key=key,
        method=request.method,
        path=path,
        request_hash=fingerprint(request.method, f"{path}?{request.query_params}", body),
    )
    if replay is not None:
        if on_replay is not None:
            on_replay()
        return Response(
            replay.body,
            status_code=replay.status,
            media_type=JSON,
            headers={**(headers or {}), "Idempotent-Replayed": "true"},
        )
    try:
        status, payload = await execute()
    except AppError as exc:
        if exc.status >= 500:
            await store.release(user_id=user_id, key=key)
            raise
        response = error_response(request, exc)
        await store.complete(user_id=user_id, key=key, status=exc.status, body=bytes(response.body))
        return response
    except BaseException:
        await store.release(user_id=user_id, key=key)
        raise
    await store.complete(user_id=user_id, key=key, status=status, body=payload)
    return Response(payload, status_code=status, media_type=JSON, headers=headers)
