"""Domain events: collected on the session while a command runs, published only after commit.

A service calls `emit(session, DomainEvent(...))`; the unit of work (`tsh.platform.db.uow`) commits
and then hands the events to the bus. A rolled-back transaction publishes nothing, so a cache is
never invalidated for a change that did not happen, and every write path (BFF action, legacy API,
seed, CLI) invalidates the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "tsh_events"


@dataclass(frozen=True, slots=True)
class DomainEvent:
    name: str
    # Scope markers of the rows the event touched ("user:5", "branch:2", "customer:9").
    # Empty means "anyone may be affected": every cached screen listing the event is dropped.
    scopes: frozenset[str] = frozenset()
    payload: Mapping[str, Any] = field(default_factory=dict)


def emit(session: AsyncSession, *events: DomainEvent) -> None:
    session.info.setdefault(_KEY, []).extend(events)


def take_events(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(_KEY, [])
    # The same event may be raised by several steps of one command; publish it once.
    unique: dict[tuple[str, frozenset[str]], DomainEvent] = {}
    for ev in events:
        unique.setdefault((ev.name, ev.scopes), ev)
    return list(unique.values())


def discard_events(session: AsyncSession) -> None:
    session.info.pop(_KEY, None)


Subscriber = Callable[[list[DomainEvent]], Awaitable[None]]


class EventBus:
    """In-process fan-out to subscribers (cache invalidation, metrics, audit of notices)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    async def publish(self, events: Iterable[DomainEvent]) -> None:
        batch = list(events)
        if not batch:
            return
        for fn in self._subscribers:
            await fn(batch)
