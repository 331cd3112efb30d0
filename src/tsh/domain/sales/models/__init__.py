"""Sales context models (domain.md §5), split by module and re-exported here.

- `orders`: Order, OrderLine (their stock reservations are `inventory.models.StockReservation`)
- `payments`: Invoice, Payment, PaymentAllocation
- `field`: Visit, Target, Commission, CommissionPayout
- `daily_sales`: ProductDailySales, SalesRollup (the product-sales read model)
"""

from tsh.domain.sales.models.daily_sales import ProductDailySales, SalesRollup
from tsh.domain.sales.models.field import (
    COMMISSION_KINDS,
    COMMISSION_STATUSES,
    OPEN_PAYOUT_STATUSES,
    PAYOUT_METHODS,
    PAYOUT_STATUSES,
    VISIT_OUTCOMES,
    VISIT_STATUSES,
    Commission,
    CommissionPayout,
    Target,
    Visit,
)
from tsh.domain.sales.models.orders import (
    CANCELLABLE_ORDER_STATUSES,
    DELIVERY_OPTIONS,
    ORDER_CHANNELS,
    ORDER_PAYMENT_METHODS,
    ORDER_PAYMENT_STATUSES,
    ORDER_STATUSES,
    PAYMENT_TERMS,
    Order,
    OrderLine,
)
from tsh.domain.sales.models.payments import (
    INVOICE_STATUSES,
    ONLINE_PAYMENT_METHODS,
    PAYMENT_CHANNELS,
    PAYMENT_METHODS,
    UNPAID_INVOICE_STATUSES,
    Invoice,
    Payment,
    PaymentAllocation,
)

__all__ = [
    "CANCELLABLE_ORDER_STATUSES",
    "COMMISSION_KINDS",
    "COMMISSION_STATUSES",
    "DELIVERY_OPTIONS",
    "INVOICE_STATUSES",
    "ONLINE_PAYMENT_METHODS",
    "OPEN_PAYOUT_STATUSES",
    "ORDER_CHANNELS",
    "ORDER_PAYMENT_METHODS",
    "ORDER_PAYMENT_STATUSES",
    "ORDER_STATUSES",
    "PAYMENT_CHANNELS",
    "PAYMENT_METHODS",
    "PAYMENT_TERMS",
    "PAYOUT_METHODS",
    "PAYOUT_STATUSES",
    "UNPAID_INVOICE_STATUSES",
    "VISIT_OUTCOMES",
    "VISIT_STATUSES",
    "Commission",
    "CommissionPayout",
    "Invoice",
    "Order",
    "OrderLine",
    "Payment",
    "PaymentAllocation",
    "ProductDailySales",
    "SalesRollup",
    "Target",
    "Visit",
]
