"""Build domain events with the scope markers of the rows they touched.

Cached screens are keyed by the caller's scope marker ("user:7", "branch:2", "customer:9",
"partner:3" or "all"; tsh.bff.call.scope_marker). An event that names the owners of the rows it
changed drops only those owners' entries, the branch's and the company-wide ones; an event with
no markers drops every entry that lists it. When in doubt, name more owners, never fewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.platform.events import DomainEvent, emit


def markers(
    *,
    users: Iterable[int | None] = (),
    branches: Iterable[int | None] = (),
    customers: Iterable[int | None] = (),
    partners: Iterable[int | None] = (),
) -> frozenset[str]:
    out: set[str] = set()
    out.update(f"user:{u}" for u in users if u is not None)
    out.update(f"branch:{b}" for b in branches if b is not None)
    out.update(f"customer:{c}" for c in customers if c is not None)
    out.update(f"partner:{p}" for p in partners if p is not None)
    return frozenset(out)


def raise_event(
    session: AsyncSession,
    name: str,
    *,
    users: Iterable[int | None] = (),
    branches: Iterable[int | None] = (),
    customers: Iterable[int | None] = (),
    partners: Iterable[int | None] = (),
    everyone: bool = False,
    **payload: Any,
) -> None:
    """Queue `name` for publication after commit.

    `everyone=True` (or naming no owner at all) invalidates every cached screen listing the event.
    """
    scopes = (
        frozenset()
        if everyone
        else markers(users=users, branches=branches, customers=customers, partners=partners)
    )
    emit(session, DomainEvent(name, scopes, payload))
