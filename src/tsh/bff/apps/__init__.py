"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import admin, consumer, hr, pos, salesperson, security

__all__ = ["admin", "consumer", "hr", "pos", "salesperson", "security"]
