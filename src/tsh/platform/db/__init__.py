from tsh.platform.db.base import Base, Money, TimestampMixin, utcnow

__all__ = ["Base", "Money", "TimestampMixin", "utcnow"]
