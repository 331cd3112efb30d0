"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import consumer, hr, pos, salesperson

__all__ = ["consumer", "hr", "pos", "salesperson"]
