"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import consumer, pos, salesperson, security

__all__ = ["consumer", "pos", "salesperson", "security"]
