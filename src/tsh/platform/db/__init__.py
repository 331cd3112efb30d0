from sqlalchemy.ext.asyncio import AsyncSession as Session

from tsh.platform.db.base import Base, Money, TimestampMixin, utcnow

# `Session` is the name the layers above use for a unit of work's (or a screen's) session: the
# BFF passes it on to domain services and queries without touching SQLAlchemy itself.
__all__ = ["Base", "Money", "Session", "TimestampMixin", "utcnow"]
