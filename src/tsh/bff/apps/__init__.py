"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import accounting, consumer, pos, salesperson

__all__ = ["accounting", "consumer", "pos", "salesperson"]
