"""Business writes of the legacy API, each a thin call of the domain service of its BFF action.

Bodies are strict (unknown fields 422) and typed like the BFF inputs; every rule beyond the input
shape (state machine, stock, credit, balances, periods) is the service's. The services raise the
events; the caller's unit of work commits or rolls the whole command back.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.resource import Command
from tsh.domain.accounting import periods, posting, rates
from tsh.domain.actor import Actor
from tsh.domain.identity import threats
from tsh.domain.identity.service import revoke_session
from tsh.domain.money import has_valid_places
from tsh.domain.sales import collections, consumer_payments, fulfilment, payouts
from tsh.domain.wholesale import credit
from tsh.platform.auth.principal import Principal
from tsh.platform.errors import Forbidden, Invalid, field_error

MAX_AMOUNT = Decimal("1e15")
Id = Annotated[int, Field(gt=0, le=2**63 - 1)]
Amount = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, decimal_places=2)]
Side = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2)]
Currency = Literal["IQD", "USD"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_places(amounts: list[tuple[str, Decimal]], currency: str) -> None:
    """core.md §0 money input: IQD has no fractional dinars, USD at most 2 decimals."""
    bad = [
        field_error(name, "too many decimal places")
        for name, v in amounts
        if not has_valid_places(v, currency)
    ]
    if bad:
        raise Invalid("Amounts exceed the currency's decimal places", code="INVALID_AMOUNT", details=bad)


# -- orders: PATCH status (shipped / delivered / cancelled) ---------------------------------------


class OrderStatus(Strict):
    status: Literal["shipped", "delivered", "cancelled"]
    reason: str | None = Field(None, min_length=1, max_length=500)
    # order line id → serial numbers shipped on it (serialised products)
    serial_numbers: dict[int, list[Annotated[str, Field(min_length=1, max_length=100)]]] | None = None


async def order_status(session: AsyncSession, principal: Principal, row: Any, body: OrderStatus) -> Any:
    if principal.role == "warehouse_staff" and body.status != "shipped":
        raise Forbidden("Warehouse staff may only ship orders")
    if body.status == "shipped":
        return await fulfilment.ship_order(
            session, order_id=row.id, by_user_id=principal.user_id, serial_numbers=body.serial_numbers
        )
    if body.status == "delivered":
        return await fulfilment.deliver_order(session, order_id=row.id, by_user_id=principal.user_id)
    # Cancelling refunds online payments to their method (RefundIssued), as the consumer's own cancel.
    return await consumer_payments.cancel_own_order(
        session,
        customer_id=row.customer_id,
        order_id=row.id,
        reason=body.reason or "Cancelled in the back office",
        by_user_id=principal.user_id,
    )


# -- payments: POST (ACC-16) -------------------------------------------------------------------


class Allocation(Strict):
    invoice_id: Id
    amount: Amount  # in the invoice currency


class NewPayment(Strict):
    customer_id: Id
    amount: Amount
    currency: Currency
    method: Literal["cash", "cheque", "bank_transfer"]
    reference: str | None = Field(None, max_length=100)
    allocations: list[Allocation] | None = Field(None, max_length=200)


async def create_payment(session: AsyncSession, principal: Principal, row: Any, body: NewPayment) -> Any:
    check_places([("amount", body.amount)], body.currency)
    return await collections.record_payment(
        session,
        customer_id=body.customer_id,
        amount=body.amount,
        currency=body.currency,
        method=body.method,
        reference=body.reference,
        channel="office",
        collected_by_id=principal.user_id,
        allocations=None
        if body.allocations is None
        else [(a.invoice_id, a.amount) for a in body.allocations],
    )


# -- journal entries: POST (ACC-08) --------------------------------------------------------------


class EntryLine(Strict):
    account_id: Id
    debit: Side = Decimal(0)
    credit: Side = Decimal(0)
    branch_id: Id | None = None
    customer_id: Id | None = None
    memo: str | None = Field(None, max_length=500)


class NewEntry(Strict):
    date: dt.date
    memo: str = Field(min_length=1, max_length=500)
    currency: Currency
    exchange_rate: Decimal | None = Field(None, gt=0, le=Decimal("1e9"), decimal_places=6)
    lines: list[EntryLine] = Field(max_length=500)
    reference: str | None = Field(None, max_length=100)


async def create_entry(session: AsyncSession, principal: Principal, row: Any, body: NewEntry) -> Any:
    return await posting.post_entry(
        session,
        journal="GEN",
        entry_date=body.date,
        currency=body.currency,
        lines=[
            posting.Line(
                ln.account_id,
                debit=ln.debit,
                credit=ln.credit,
                branch_id=ln.branch_id,
                customer_id=ln.customer_id,
                memo=ln.memo,
            )
            for ln in body.lines
        ],
        memo=body.memo,
        source_type="manual",
        source_id=None,
        branch_id=None,
        posted_by_id=principal.user_id,
        exchange_rate=body.exchange_rate,
        reference=body.reference,
    )


# -- sessions: DELETE = revoke (SEC-12) ------------------------------------------------------------


async def revoke(session: AsyncSession, principal: Principal, row: Any, body: None) -> Any:
    await revoke_session(session, session_id=row.id, reason="revoked_by_security")
    return row


# -- threats: PATCH = SEC-04 ------------------------------------------------------------------------


class ThreatUpdate(Strict):
    status: Literal["investigating", "resolved", "false_positive"] | None = None
    assignee_id: Id | None = None
    note: str | None = Field(None, max_length=2000)
    resolution: str | None = Field(None, max_length=2000)


async def update_threat(session: AsyncSession, principal: Principal, row: Any, body: ThreatUpdate) -> Any:
    threat, _ = await threats.update_threat(
        session,
        Actor.of(principal, "all"),
        threat_id=row.id,
        status=body.status,
        assignee_id=body.assignee_id,
        note=body.note,
        resolution=body.resolution,
    )
    return threat


# -- exchange-rates: POST (ACC-30) ---------------------------------------------------------------


class NewRate(Strict):
    rate: Decimal = Field(gt=0, le=Decimal("1e9"), decimal_places=6)  # IQD per 1 USD
    effective_from: AwareDatetime | None = None
    confirm: bool = False


async def create_rate(session: AsyncSession, principal: Principal, row: Any, body: NewRate) -> Any:
    return await rates.set_rate(
        session,
        rate=body.rate,
        effective_from=body.effective_from,
        confirm=body.confirm,
        set_by_id=principal.user_id,
    )


# -- credit-requests: PATCH decision -------------------------------------------------------------


class CreditDecision(Strict):
    status: Literal["approved", "rejected"]
    note: str | None = Field(None, min_length=1, max_length=2000)


async def decide_credit(session: AsyncSession, principal: Principal, row: Any, body: CreditDecision) -> Any:
    # The row was loaded inside the caller's write scope (branch_manager: the branch's customers).
    return await credit.decide_credit_request(
        session, request_id=row.id, decision=body.status, note=body.note, by_user_id=principal.user_id
    )


# -- commission-payouts: PATCH status --------------------------------------------------------------


class PayoutDecision(Strict):
    status: Literal["approved", "rejected", "paid"]
    note: str | None = Field(None, min_length=1, max_length=2000)
    # Paid from this bank account (default: cash for cash_at_branch, else the company bank account).
    bank_account_id: Id | None = None


async def decide_payout(session: AsyncSession, principal: Principal, row: Any, body: PayoutDecision) -> Any:
    if body.bank_account_id is not None and body.status != "paid":
        raise Invalid(details=[field_error("bank_account_id", "only when paying")])
    return await payouts.decide_payout(
        session,
        payout_id=row.id,
        status=body.status,
        note=body.note,
        by_user_id=principal.user_id,
        bank_account_id=body.bank_account_id,
    )


# -- fiscal-periods: PATCH status (accountant closes, admin reopens) ------------------------------


class PeriodStatus(Strict):
    status: Literal["open", "closed"]
    note: str | None = Field(None, min_length=1, max_length=2000)


async def period_status(session: AsyncSession, principal: Principal, row: Any, body: PeriodStatus) -> Any:
    if body.status == "open" and not principal.is_admin:
        raise Forbidden("Only an admin reopens a fiscal period")
    return await periods.set_period_status(
        session, period_id=row.id, status=body.status, note=body.note, by_user_id=principal.user_id
    )


ORDER_STATUS = Command(order_status, OrderStatus)
PAYMENT = Command(create_payment, NewPayment)
JOURNAL_ENTRY = Command(create_entry, NewEntry)
SESSION_REVOKE = Command(revoke)
THREAT_UPDATE = Command(update_threat, ThreatUpdate)
EXCHANGE_RATE = Command(create_rate, NewRate)
CREDIT_DECISION = Command(decide_credit, CreditDecision)
PAYOUT_DECISION = Command(decide_payout, PayoutDecision)
PERIOD_STATUS = Command(period_status, PeriodStatus)
