"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import consumer, pos, salesperson, wholesale

__all__ = ["consumer", "pos", "salesperson", "wholesale"]
