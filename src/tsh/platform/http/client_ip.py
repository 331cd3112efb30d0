"""The client's address, the one every rate limit, IP block, audit row and the /metrics
loopback exemption uses.

Behind nginx every connection comes from nginx, so the address is taken from X-Forwarded-For,
but only as far as the hops are trusted proxies (Settings.trusted_proxies): walking the header
from the right, the first address that is not a trusted proxy is the client. A client can put
anything at the left of the header; only what a trusted proxy appended counts. With no trusted
proxies (the default) the header is ignored and the peer address is the client.

RequestContextMiddleware resolves it once per request (`resolve`) and keeps it in the request
state; `client_ip(request)` reads it there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.requests import Request
from starlette.types import Scope

Network = IPv4Network | IPv6Network
STATE_KEY = "client_ip"


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        parsed: IPv4Address | IPv6Address = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The client address given the connection's peer and the X-Forwarded-For header values."""
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            # Not an address (a trusted proxy passed on what the client sent): the last trusted
            # hop is as far as anything is known.
            return client
        client = hop
        if not _trusted(hop, trusted):
            return hop
    return client


def resolve(scope: Scope, trusted: Sequence[Network]) -> str:
    """Resolve the client address of an HTTP scope and keep it in the request state."""
    peer = scope.get("client")
    address = peer[0] if peer else ""
    if trusted:
        header = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
        address = forwarded_client(address, header, trusted)
    scope.setdefault("state", {})[STATE_KEY] = address
    return address


def client_ip(request: Request) -> str:
    state = request.scope.get("state") or {}
    if STATE_KEY in state:
        return str(state[STATE_KEY])
    # Outside the middleware (an app mounted without it): the peer, never the header.
    return request.client.host if request.client else ""
