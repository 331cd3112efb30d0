"""The client address behind a proxy: X-Forwarded-For is believed only as far as the hops are
trusted proxies (Settings.trusted_proxies), and it is that address the login limit, the audit
of login attempts and IP blocks see."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from ipaddress import ip_network

import httpx2 as httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tsh.config import Settings
from tsh.context import AppContext
from tsh.domain.identity.models import LoginAttempt
from tsh.platform.http.client_ip import client_ip, forwarded_client
from tsh.platform.http.middleware import RequestContextMiddleware

LOCAL_NGINX = [ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8")]


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        # Straight from the client: the header is the client's own word and ignored.
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        # Through nginx: the hop nginx appended.
        ("127.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # A client forging the header: only the right-most untrusted hop counts.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        # Two trusted proxies (a load balancer in 10/8, then nginx); two header lines.
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1", "10.1.2.3"], "198.51.100.1"),
        # Trusted peer without a header (a local health check): the peer.
        ("127.0.0.1", [], "127.0.0.1"),
        # Everything trusted: the left-most hop is as far as anyone knows.
        ("127.0.0.1", ["10.0.0.9"], "10.0.0.9"),
        # Garbage behind a trusted hop: stop at the last address a trusted proxy vouched for.
        ("127.0.0.1", ["not-an-ip, 10.0.0.9"], "10.0.0.9"),
        ("127.0.0.1", ["2001:db8::1"], "2001:db8::1"),
        # The test client's peer is not an address at all.
        ("testclient", ["198.51.100.1"], "testclient"),
    ],
)
def test_forwarded_client(peer: str, header: list[str], expected: str) -> None:
    assert forwarded_client(peer, header, LOCAL_NGINX) == expected


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert forwarded_client("127.0.0.1", ["198.51.100.1"], []) == "127.0.0.1"


def test_trusted_proxies_setting_takes_addresses_and_networks_and_refuses_others() -> None:
    settings = Settings(env="test", trusted_proxies=["127.0.0.1", "10.0.0.0/8", "::1"])
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert Settings(env="test").trusted_proxies == []
    with pytest.raises(ValidationError):
        Settings(env="test", trusted_proxies=["nginx.local"])


async def test_the_middleware_resolves_once_for_ip_blocks_and_handlers() -> None:
    seen_by_block_check: list[str] = []

    async def ip_blocked(scope: object, ip: str) -> bool:
        seen_by_block_check.append(ip)
        return ip == "198.51.100.66"

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(client_ip(request))

    inner = Starlette(routes=[Route("/api/echo", echo)])
    app = RequestContextMiddleware(
        inner, max_body_bytes=1024, access_log=False, ip_blocked=ip_blocked, trusted_proxies=LOCAL_NGINX
    )
    proxied = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    direct = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=proxied, base_url="http://t") as via_nginx:
        r = await via_nginx.get("/api/echo", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7"})
        assert r.text == "198.51.100.7"
        blocked = await via_nginx.get("/api/echo", headers={"X-Forwarded-For": "198.51.100.66"})
        assert blocked.status_code == 403 and blocked.json()["error_code"] == "IP_BLOCKED"
    async with httpx.AsyncClient(transport=direct, base_url="http://t") as straight:
        # A client that is not a proxy cannot claim the blocked address is someone else's.
        r = await straight.get("/api/echo", headers={"X-Forwarded-For": "198.51.100.8"})
        assert r.text == "203.0.113.5"
    assert seen_by_block_check == ["198.51.100.7", "198.51.100.66", "203.0.113.5"]


@pytest.fixture(scope="module")
async def behind_nginx(seeded: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app as `tsh serve` runs it behind the local nginx, login limit 2 a minute per IP."""
    from tsh.main import create_app

    settings = seeded.model_copy(update={"trusted_proxies": LOCAL_NGINX, "rate_limit_login_ip": "2/minute"})
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _attempt_ips(ctx: AppContext, email: str) -> list[str | None]:
    async with ctx.db.read_session() as session:
        rows = await session.scalars(select(LoginAttempt.ip).where(LoginAttempt.email == email))
        return list(rows)


def _ip() -> str:
    # Fresh per run: the limiter's window outlives a test when it is kept in Redis.
    n = uuid.uuid4().int
    return f"198.18.{n % 250}.{n // 250 % 250 + 1}"


async def _login(client: httpx.AsyncClient, email: str, forwarded_for: str) -> httpx.Response:
    body = {"email": email, "password": "wrong-password-1", "app": "pos"}
    return await client.post("/api/auth/login", json=body, headers={"X-Forwarded-For": forwarded_for})


async def test_behind_nginx_each_client_has_its_own_login_limit_and_audit_address(
    behind_nginx: httpx.AsyncClient, ctx: AppContext
) -> None:
    first, second = _ip(), _ip()
    emails = [f"nobody-{uuid.uuid4().hex[:8]}@example.com" for _ in range(4)]
    assert (await _login(behind_nginx, emails[0], f"6.6.6.6, {first}")).status_code == 401
    assert (await _login(behind_nginx, emails[1], first)).status_code == 401
    limited = await _login(behind_nginx, emails[2], first)
    assert limited.status_code == 429, limited.text
    # Another phone behind the same nginx is not refused because of the first one.
    assert (await _login(behind_nginx, emails[3], second)).status_code == 401
    assert await _attempt_ips(ctx, emails[0]) == [first]
    assert await _attempt_ips(ctx, emails[3]) == [second]


async def test_without_trusted_proxies_a_forged_header_changes_nothing(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    assert (await _login(client, email, _ip())).status_code == 401
    assert await _attempt_ips(ctx, email) == ["127.0.0.1"]
