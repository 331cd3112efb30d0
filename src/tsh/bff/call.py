"""What a BFF handler receives: the caller as a domain `Actor`, a session, and helpers.

Handlers pass `call.actor` and `call.session` to domain services and queries; they hold no SQL
and no business rule of their own (the import-linter contracts in pyproject.toml hold that).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from tsh.bff.sections import Section, SectionRun
from tsh.domain.actor import Actor
from tsh.platform.auth.principal import Principal, Scope
from tsh.platform.db import Session

if TYPE_CHECKING:
    from tsh.bff.spec import EndpointSpec
    from tsh.context import AppContext

__all__ = ["Call", "Created", "Section", "scope_marker"]


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
    # Partial screens (tsh.bff.sections): the perf_counter instant the client stops waiting
    # (X-Request-Deadline), the identity of this screen's answer for last good values, and
    # the status of each section run.
    deadline: float | None = None
    screen_key: Callable[[], Awaitable[str]] | None = None
    section_statuses: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        """Run a screen's sections (tsh.bff.sections): each name gets its value, its last good
        value or None; `metadata.sections` tells the app which. A required section that fails
        fails the request."""
        run = SectionRun(
            endpoint=self.spec.id,
            session=self.session,
            cache=self.ctx.cache,
            key_base=self.screen_key or self._default_key,
            deadline=self.deadline,
            statuses=self.section_statuses,
        )
        return await run.run(parts)

    async def _default_key(self) -> str:
        return f"{self.spec.id}|{scope_marker(self.principal, self.scope)}"
