"""Production settings and metrics for several instances: the metrics token is required in prod,
requests in flight are a gauge, and the latency histogram reaches 30 s."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, generate_latest
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from tsh.config import Settings
from tsh.platform.http.middleware import RequestContextMiddleware
from tsh.platform.metrics import LATENCY, LATENCY_BUCKETS

KEY = "k" * 40


def test_prod_refuses_to_start_without_a_metrics_token() -> None:
    with pytest.raises(ValidationError, match="TSH_METRICS_TOKEN"):
        Settings(env="prod", secret_key=KEY)
    assert Settings(env="prod", secret_key=KEY, metrics_token="m" * 32).metrics_token
    assert Settings(env="staging", secret_key=KEY).metrics_token is None
    assert Settings(env="test").metrics_token is None


def _in_flight() -> float:
    return REGISTRY.get_sample_value("tsh_http_requests_in_flight") or 0.0


async def _serve(app: RequestContextMiddleware) -> int:
    scope: Scope = {"type": "http", "method": "GET", "path": "/api/bff/mobile/pos/x", "headers": []}
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))  # type: ignore[call-overload]

    await app(scope, receive, send)  # type: ignore[arg-type]
    return statuses[0]


@pytest.mark.parametrize("fails", [False, True])
async def test_a_request_is_in_flight_while_served_and_not_after(fails: bool) -> None:
    before = _in_flight()
    seen: list[float] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(_in_flight())
        if fails:
            raise RuntimeError("a bug")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    status = await _serve(RequestContextMiddleware(inner, max_body_bytes=1024, access_log=False))
    assert status == (500 if fails else 200)
    assert seen == [before + 1]
    assert _in_flight() == before


def test_latency_buckets_reach_30_seconds() -> None:
    assert LATENCY_BUCKETS[-2:] == (10.0, 30.0)
    assert list(LATENCY_BUCKETS) == sorted(set(LATENCY_BUCKETS))
    LATENCY.labels("ops", "/buckets-test").observe(20.0)  # a stuck request during an outage
    exposed = generate_latest().decode()
    assert (
        'tsh_http_request_duration_seconds_bucket{app="ops",le="10.0",route="/buckets-test"} 0.0' in exposed
    )
    assert (
        'tsh_http_request_duration_seconds_bucket{app="ops",le="30.0",route="/buckets-test"} 1.0' in exposed
    )
