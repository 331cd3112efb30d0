"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import (
    accounting,
    admin,
    consumer,
    hr,
    inventory,
    mobile,
    partner,
    pos,
    salesperson,
    security,
    wholesale,
)

__all__ = [
    "accounting",
    "admin",
    "consumer",
    "hr",
    "inventory",
    "mobile",
    "partner",
    "pos",
    "salesperson",
    "security",
    "wholesale",
]
