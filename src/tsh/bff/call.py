"""What a BFF handler receives: the caller as a domain `Actor`, a session, and helpers.

Handlers pass `call.actor` and `call.session` to domain services and queries; they hold no SQL
and no business rule of their own (the import-linter contracts in pyproject.toml hold that).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from tsh.domain.actor import Actor
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.db import Session
from tsh.platform.errors import AppError
from tsh.platform.metrics import SECTION_LATENCY

if TYPE_CHECKING:
    from tsh.bff.spec import EndpointSpec
    from tsh.context import AppContext

Section = Callable[[Session], Awaitable[Any]]


def scope_marker(principal: Principal, scope: Scope) -> str:
    """The cache and invalidation identity of "the rows this caller may see"."""
    if scope == "all":
        return "all"
    if scope == "branch":
        return f"branch:{principal.branch_id}"
    if principal.role in ("consumer", "wholesale_client") and principal.customer_id:
        return f"customer:{principal.customer_id}"
    if principal.role == "partner" and principal.partner_id:
        return f"partner:{principal.partner_id}"
    return f"user:{principal.user_id}"


@dataclass
class Created:
    """Return this from an action that created a record: the response is 201."""

    data: Any


@dataclass
class Call:
    spec: EndpointSpec
    ctx: AppContext
    principal: Principal
    scope: Scope
    session: Session
    request_id: str
    ip: str
    audit_target: dict[str, Any] = field(default_factory=dict)
    # Extra scope markers a cached screen also depends on (see `also_cached_under`).
    cache_markers: list[str] = field(default_factory=list)
    # The HTTP request, for an endpoint declared `own_transactions` (the outbox runs its items as
    # requests of the same caller); None for every other endpoint.
    request: Request | None = None

    @cached_property
    def actor(self) -> Actor:
        """The caller with the scope this endpoint grants its role: what every service takes."""
        return Actor.of(self.principal, self.scope)

    @property
    def user_id(self) -> int:
        return self.principal.user_id

    @property
    def branch_id(self) -> int | None:
        return self.principal.branch_id

    def audit(
        self, entity_type: str, entity_id: int | None, *, before: Any = None, after: Any = None
    ) -> None:
        """Name the record an action changed, for its audit-log row."""
        self.audit_target = {
            "entity_type": entity_type,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }

    def also_cached_under(self, marker: str) -> None:
        """Tag this screen's cache entry with another owner's marker too, so events naming only
        that owner drop it (a customer's catalogue depends on its supplying branch's stock)."""
        self.cache_markers.append(marker)

    async def sections(self, parts: Mapping[str, Section]) -> dict[str, Any]:
        """Run independent parts of a screen concurrently, each on its own session.

        Only worth it for slow or remote sources: on these machines one connection running
        queries in sequence usually beats a fan-out (docs/design/PERFORMANCE.md).
        """
        timeout = self.ctx.settings.section_timeout_s

        async def run(name: str, fn: Section) -> Any:
            started = time.perf_counter()
            async with self.ctx.db.read_session() as session:
                try:
                    return await asyncio.wait_for(fn(session), timeout)
                except TimeoutError as exc:
                    raise AppError(
                        "A part of this screen timed out", code="SECTION_TIMEOUT", status=503
                    ) from exc
                finally:
                    SECTION_LATENCY.labels(self.spec.id, name).observe(time.perf_counter() - started)

        names = list(parts)
        results = await asyncio.gather(*(run(n, parts[n]) for n in names))
        return dict(zip(names, results, strict=True))
