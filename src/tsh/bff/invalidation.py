"""The one table from business events to cache tags, and the subscriber that applies it.

Tags are derived, not listed by hand: a screen that declares event E is stored under the tags
"E" and "E@<its scope marker>" (tsh.platform.cache.tags). An event drops "E" when it names no
scope, else "E@all" plus "E@<marker>" for each owner it touched. This table is the catalogue
of events (domain.md §12): declaring a screen with an event missing here fails at start-up.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tsh.platform.cache.backend import CacheError
from tsh.platform.cache.tags import event_tags
from tsh.platform.events import DomainEvent
from tsh.platform.metrics import CACHE, INVALIDATIONS

if TYPE_CHECKING:
    from tsh.context import AppContext

log = logging.getLogger("tsh.cache")

# event → what it means (domain.md §12). Every event invalidates its own tags.
EVENTS: dict[str, str] = {
    "OrderCreated": "an order is placed",
    "OrderChanged": "an order changes status, payment state or delivered quantities",
    "PaymentReceived": "a customer payment is recorded and allocated",
    "ProductChanged": "a product or category is created, changed or deactivated",
    "PriceChanged": "a price-list item, promotion, tax rate or exchange rate changes",
    "StockChanged": "a stock level changes",
    "CustomerChanged": "a customer, its addresses, owner or consumer profile changes",
    "VisitRecorded": "a visit is planned, replanned, checked in or out",
    "ReviewChanged": "a review is written, edited, deleted, voted on or moderated",
    "UserChanged": "a user is created or changes data, status, password or lockout",
    "UserRoleChanged": "a user's role or overrides, or a role's permission set, change",
    "BranchChanged": "a branch, warehouse, delivery zone or POS terminal changes",
    "JournalPosted": "a journal entry is posted or reversed",
    "BankReconciled": "bank statement lines are imported, matched or reconciled",
    "EmployeeChanged": "an employee, department or technician changes",
    "AttendanceRecorded": "an attendance record is created or corrected",
    "LeaveChanged": "a leave request or balance or a public holiday changes",
    "PayrollProcessed": "a payroll run is calculated, approved or paid",
    "ReviewCycleChanged": "a review cycle or performance review changes",
    "ShiftChanged": "a POS shift opens or closes or its drawer changes",
    "PosSaleCompleted": "a POS sale is paid and completed",
    "RefundIssued": "a refund is issued",
    "TransferChanged": "a stock transfer changes",
    "CountChanged": "a stock count changes",
    "CreditChanged": "a receivable balance, credit limit, hold or credit request changes",
    "InvoiceIssued": "an invoice is issued",
    "CommissionChanged": "a commission, payout or target changes",
    "PartnerChanged": "a partner, its network or its customers change",
    "ServiceRequestChanged": "a service request, job or part request changes",
    "WarrantyChanged": "a warranty is created, extended, claimed or voided",
    "PartsChanged": "spare-part master data or part stock changes",
    "SecurityEventRecorded": "a security event is recorded",
    "SessionChanged": "a session is opened or revoked",
    "ReturnChanged": "a return request is opened, decided or refunded",
    "LedgerSetupChanged": "an account, bank account, tax rate or fiscal period changes",
}


def tags_for(event: DomainEvent) -> list[str]:
    if event.name not in EVENTS:
        raise ValueError(f"unknown domain event {event.name!r}")
    return event_tags(event.name, event.scopes)


def install_invalidation(ctx: AppContext) -> None:
    async def invalidate(events: list[DomainEvent]) -> None:
        tags: list[str] = []
        for ev in events:
            tags.extend(tags_for(ev))
            INVALIDATIONS.labels(ev.name).inc()
        try:
            await ctx.cache.invalidate(tags)
        except CacheError:
            # The back end keeps the tags and retries before its next read.
            CACHE.labels("invalidation", "error").inc()
            log.warning("cache invalidation deferred: back end unavailable")

    ctx.bus.subscribe(invalidate)
