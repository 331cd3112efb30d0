"""The one envelope definition (docs/contract/README.md).

Success: {"success": true, "data": ..., "metadata": {...}}
Error:   {"success": false, "error": ..., "error_code": ..., "details"?: [...], "metadata": {...}}

`data` is spliced in as already-encoded bytes, so a cache hit is served without decoding or
re-encoding the stored payload.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from tsh import API_VERSION
from tsh.platform.http.json import dumps


def metadata(
    *, request_id: str, started: float, cached: bool = False, cache_age_s: int | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "cached": cached,
        "response_time_ms": round((time.perf_counter() - started) * 1000, 2),
        "api_version": API_VERSION,
        "request_id": request_id,
    }
    if cache_age_s is not None:
        meta["cache_age_s"] = cache_age_s
    return meta


def success_bytes(data_json: bytes, meta: Mapping[str, Any]) -> bytes:
    return b'{"success":true,"data":' + data_json + b',"metadata":' + dumps(meta) + b"}"


def error_bytes(
    *, message: str, code: str, meta: Mapping[str, Any], details: Sequence[Mapping[str, Any]] | None = None
) -> bytes:
    body: dict[str, Any] = {"success": False, "error": message, "error_code": code}
    if details:
        body["details"] = list(details)
    body["metadata"] = meta
    return dumps(body)
