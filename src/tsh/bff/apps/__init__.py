"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import consumer, partner, pos, salesperson, wholesale

__all__ = ["consumer", "partner", "pos", "salesperson", "wholesale"]
