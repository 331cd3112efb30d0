"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import consumer, inventory, pos, salesperson

__all__ = ["consumer", "inventory", "pos", "salesperson"]
