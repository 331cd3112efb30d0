"""The catalogue of domain events, and raising them with the scope markers of the rows they touched.

Every event the ERP emits is declared here once: its meaning and the owners it names. Screens
list the events that invalidate them (`tsh.bff.spec` refuses an unknown one at start-up); services
raise them with `raise_event`, which refuses an unknown name before the transaction commits, so a
misspelt event fails the test suite instead of committing a write whose screens stay stale.

Cached screens are keyed by the caller's scope marker ("user:7", "branch:2", "customer:9",
"partner:3" or "all"; tsh.bff.call.scope_marker). An event that names the owners of the rows it
changed drops only those owners' entries, the branch's and the company-wide ones; an event with
no markers drops every entry that lists it. When in doubt, name more owners, never fewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from tsh.platform.events import DomainEvent, emit

EventName = Literal[
    "OrderCreated", "OrderChanged", "PaymentReceived", "ProductChanged", "PriceChanged",
    "StockChanged", "CustomerChanged", "VisitRecorded", "ReviewChanged", "UserChanged",
    "UserRoleChanged", "BranchChanged", "JournalPosted", "BankReconciled", "EmployeeChanged",
    "AttendanceRecorded", "LeaveChanged", "PayrollProcessed", "ReviewCycleChanged", "ShiftChanged",
    "PosSaleCompleted", "RefundIssued", "TransferChanged", "CountChanged", "CreditChanged",
    "InvoiceIssued", "CommissionChanged", "PartnerChanged", "ServiceRequestChanged",
    "WarrantyChanged", "PartsChanged", "SecurityEventRecorded", "SessionChanged", "ReturnChanged",
    "LedgerSetupChanged",
]  # fmt: skip
ScopeKey = Literal["users", "branches", "customers", "partners"]


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: EventName
    meaning: str
    # The owners a raise of this event names (any subset; none = every cached screen listing it).
    carries: tuple[ScopeKey, ...]


_U: ScopeKey = "users"
_B: ScopeKey = "branches"
_C: ScopeKey = "customers"
_P: ScopeKey = "partners"


def _e(name: EventName, meaning: str, *carries: ScopeKey) -> EventSpec:
    return EventSpec(name, meaning, carries)


CATALOGUE: dict[str, EventSpec] = {
    e.name: e
    for e in (
        _e("OrderCreated", "an order is placed", _U, _B, _C, _P),
        _e("OrderChanged", "an order changes status, payment state or delivered quantities", _U, _B, _C, _P),
        _e("PaymentReceived", "a customer payment is recorded and allocated", _U, _B, _C, _P),
        _e("ProductChanged", "a product or category is created, changed or deactivated", _B),
        _e("PriceChanged", "a price-list item, promotion, tax rate or exchange rate changes", _B, _C, _P),
        _e("StockChanged", "a stock level changes: on hand, reserved, in transit or reorder settings", _B),
        _e("CustomerChanged", "a customer, its addresses, owner or consumer profile changes", _U, _B, _C, _P),
        _e("VisitRecorded", "a visit is planned, replanned, checked in or out", _U, _B, _C),
        _e("ReviewChanged", "a review is written, edited, deleted, voted on or moderated", _C),
        _e("UserChanged", "a user is created or changes data, status, password or lockout", _U, _B, _C, _P),
        _e("UserRoleChanged", "a user's role or overrides, or a role's permission set, change", _U, _B),
        _e("BranchChanged", "a branch, warehouse, delivery zone or POS terminal changes", _B),
        _e("JournalPosted", "a journal entry is posted or reversed", _B, _C, _P),
        _e("BankReconciled", "bank statement lines are imported, matched or reconciled", _B),
        _e("EmployeeChanged", "an employee, department or technician changes", _U, _B),
        _e("AttendanceRecorded", "an attendance record is created or corrected", _U, _B),
        _e("LeaveChanged", "a leave request or balance or a public holiday changes", _U, _B),
        _e("PayrollProcessed", "a payroll run is calculated, approved or paid", _U, _B),
        _e("ReviewCycleChanged", "a review cycle or performance review changes", _U, _B),
        _e("ShiftChanged", "a POS shift opens or closes or its drawer changes", _U, _B),
        _e("PosSaleCompleted", "a POS sale is paid and completed", _U, _B, _C),
        _e("RefundIssued", "a refund is issued (POS, return, cancelled paid online order)", _U, _B, _C, _P),
        _e("TransferChanged", "a stock transfer is requested, dispatched, received or cancelled", _U, _B),
        _e("CountChanged", "a stock count starts, gets counted quantities or is completed", _U, _B),
        _e("CreditChanged", "a receivable, credit limit, hold or credit request changes", _U, _B, _C, _P),
        _e("InvoiceIssued", "an invoice is issued (order confirmation, out-of-warranty job)", _U, _B, _C, _P),
        _e("CommissionChanged", "a commission, payout or target changes", _U, _B, _P),
        _e("PartnerChanged", "a partner, its network or its customers change", _U, _B, _P),
        _e("ServiceRequestChanged", "a service request, job or part request changes", _U, _B, _C),
        _e("WarrantyChanged", "a warranty is created, extended, claimed or voided", _B, _C),
        _e("PartsChanged", "spare-part master data or part stock changes", _B),
        _e("SecurityEventRecorded", "a security event is recorded", _U),
        _e("SessionChanged", "a session is opened or revoked", _U),
        _e("ReturnChanged", "a return request is opened, decided or refunded", _U, _B, _C),
        _e("LedgerSetupChanged", "an account, bank account, tax rate or fiscal period changes", _B),
    )
}  # fmt: skip
EVENT_NAMES: tuple[EventName, ...] = get_args(EventName)
assert set(CATALOGUE) == set(EVENT_NAMES), "every event name has one catalogue entry"


class UnknownEvent(LookupError):
    """Raised for a name not in the catalogue; before commit, so nothing is written."""


def check_event(name: str) -> EventSpec:
    spec = CATALOGUE.get(name)
    if spec is None:
        raise UnknownEvent(f"unknown domain event {name!r}; declare it in tsh.domain.events")
    return spec


def markers(
    *,
    users: Iterable[int | None] = (),
    branches: Iterable[int | None] = (),
    customers: Iterable[int | None] = (),
    partners: Iterable[int | None] = (),
) -> frozenset[str]:
    out: set[str] = set()
    out.update(f"user:{u}" for u in users if u is not None)
    out.update(f"branch:{b}" for b in branches if b is not None)
    out.update(f"customer:{c}" for c in customers if c is not None)
    out.update(f"partner:{p}" for p in partners if p is not None)
    return frozenset(out)


def raise_event(
    session: AsyncSession,
    name: EventName,
    *,
    users: Iterable[int | None] = (),
    branches: Iterable[int | None] = (),
    customers: Iterable[int | None] = (),
    partners: Iterable[int | None] = (),
    everyone: bool = False,
    **payload: Any,
) -> None:
    """Queue `name` for publication after commit.

    `everyone=True` (or naming no owner at all) invalidates every cached screen listing the event.
    """
    check_event(name)
    scopes = (
        frozenset()
        if everyone
        else markers(users=users, branches=branches, customers=customers, partners=partners)
    )
    emit(session, DomainEvent(name, scopes, payload))
