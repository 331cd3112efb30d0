"""Organisation context: branches, warehouses, delivery zones."""

from tsh.domain.organisation.models import (
    CURRENCIES,
    DELIVERY_PAYMENT_METHODS,
    RECORD_STATUSES,
    WAREHOUSE_TYPES,
    Branch,
    DeliveryZone,
    Warehouse,
)

__all__ = [
    "CURRENCIES",
    "DELIVERY_PAYMENT_METHODS",
    "RECORD_STATUSES",
    "WAREHOUSE_TYPES",
    "Branch",
    "DeliveryZone",
    "Warehouse",
]
