"""The one table from business events to cache tags, and the subscriber that applies it.

Tags are derived, not listed by hand: a screen that declares event E is stored under the tags
"E" and "E@<its scope marker>" (tsh.platform.cache.tags). An event drops "E" when it names no
scope, else "E@all" plus "E@<marker>" for each owner it touched. The events themselves are
declared once, in `tsh.domain.events.CATALOGUE`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tsh.domain.events import check_event
from tsh.platform.cache.backend import CacheError
from tsh.platform.cache.tags import event_tags
from tsh.platform.events import DomainEvent
from tsh.platform.metrics import CACHE, INVALIDATIONS

if TYPE_CHECKING:
    from tsh.context import AppContext

log = logging.getLogger("tsh.cache")


def tags_for(event: DomainEvent) -> list[str]:
    check_event(event.name)
    return event_tags(event.name, event.scopes)


def install_invalidation(ctx: AppContext) -> None:
    async def invalidate(events: list[DomainEvent]) -> None:
        tags: list[str] = []
        for ev in events:
            tags.extend(tags_for(ev))
            INVALIDATIONS.labels(ev.name).inc()
        try:
            await ctx.cache.invalidate(tags)
        except CacheError:
            # The back end keeps the tags and retries before its next read.
            CACHE.labels("invalidation", "error").inc()
            log.warning("cache invalidation deferred: back end unavailable")

    ctx.bus.subscribe(invalidate)
