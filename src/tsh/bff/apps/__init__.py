"""One package per Flutter app; importing this package registers every declaration."""

from tsh.bff.apps import (
    accounting,
    admin,
    aso,
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
    "aso",
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
