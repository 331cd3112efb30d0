"""The transaction boundary: commit once, then publish the events the command raised."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.platform.db.engine import Database
from tsh.platform.events import EventBus, discard_events, take_events


@asynccontextmanager
async def unit_of_work(db: Database, bus: EventBus) -> AsyncIterator[AsyncSession]:
    session = db.command_session()
    try:
        yield session
        await session.commit()
    except BaseException:
        discard_events(session)
        await session.rollback()
        raise
    finally:
        await session.close()
    await bus.publish(take_events(session))
