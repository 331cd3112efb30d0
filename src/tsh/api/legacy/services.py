"""Business writes of the legacy API, each a thin call of the domain service of its BFF action.

Bodies are strict (unknown fields 422) and typed like the BFF inputs; every rule beyond the input
shape (state machine, stock, credit, balances, periods) is the service's. The services raise the
events; the caller's unit of work commits or rolls the whole command back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.resource import Command
from tsh.domain.accounting import periods, posting, rates
from tsh.domain.actor import Actor
from tsh.domain.finance import closing
from tsh.domain.identity import administration, threats
from tsh.domain.identity.rbac import ROLE_CODES
from tsh.domain.identity.service import revoke_session
from tsh.domain.money import has_valid_places
from tsh.domain.sales import collections, consumer_payments, fulfilment, payouts
from tsh.domain.wholesale import credit
from tsh.platform.auth.principal import Principal
from tsh.platform.errors import Forbidden, Invalid, field_error
from tsh.platform.http.dates import DateIn, DateTimeIn
from tsh.platform.http.ids import RowIdIn

MAX_AMOUNT = Decimal("1e15")
Id = RowIdIn  # the one id rule of both back ends (tsh.platform.http.ids)
Amount = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, decimal_places=2)]
Side = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2)]
Currency = Literal["IQD", "USD"]


class Strict(BaseModel):
    # Strict like the generated bodies (bodies.py): integers and ids are JSON numbers, booleans
    # true/false, strings strings; decimals come as JSON strings or numbers and must be finite.
    model_config = ConfigDict(extra="forbid", strict=True)


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
    date: DateIn
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
    effective_from: DateTimeIn | None = None
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
    """Closing runs ACC-28's service (PREVIOUS_PERIOD_OPEN, CHECKLIST_INCOMPLETE, the year-end
    entry); reopening is the admin's (LATER_PERIOD_CLOSED)."""
    if body.status == "closed":
        await closing.close_period(session, Actor.of(principal, "all"), period_id=row.id, note=body.note)
        return row  # the same row, closed by the service
    if not principal.is_admin:
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


# -- users: PATCH (ADM-05, and status / role through ADM-06 / ADM-08) ----------------------------


class UserPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$", max_length=254)
    phone: str | None = Field(None, pattern=r"^\+?[0-9]{7,15}$")
    branch_id: Annotated[int, Field(gt=0, le=2**31 - 1)] | None = None
    language: Literal["ar", "en"] | None = None
    status: Literal["active", "disabled"] | None = None
    role: Literal[ROLE_CODES] | None = None  # type: ignore[valid-type]
    # Required with a status or role change, as in ADM-06 / ADM-08.
    reason: str | None = Field(None, min_length=1, max_length=500)


async def update_user(session: AsyncSession, principal: Principal, row: Any, body: UserPatch) -> Any:
    """The admin services behind ADM-05/06/08, so the legacy write keeps their rules (LAST_ADMIN,
    SELF_DISABLE, SELF_ROLE_CHANGE, EMAIL_TAKEN, BRANCH_REQUIRED, LINK_REQUIRED) and revocations."""
    given = body.model_fields_set
    if not given - {"reason"}:
        raise Invalid(details=[field_error("body", "no field to change")])
    if ("status" in given or "role" in given) and not body.reason:
        raise Invalid(details=[field_error("reason", "required with a status or role change")])
    actor = Actor.of(principal, "all")
    if "role" in given and body.role is not None:
        await administration.change_role(
            session,
            actor,
            user_id=row.id,
            role=body.role,
            branch_id=body.branch_id,
            branch_given="branch_id" in given,
            reason=body.reason or "",
        )
    profile: dict[str, Any] = {
        f: getattr(body, f) for f in ("name", "email", "phone", "language") if f in given
    }
    if "branch_id" in given and "role" not in given:
        profile["branch_id"] = body.branch_id
    if profile:
        await administration.update_user(session, actor, user_id=row.id, changes=profile)
    if "status" in given and body.status is not None:
        await administration.set_status(
            session, actor, user_id=row.id, status=body.status, reason=body.reason or ""
        )
    return row


USER_UPDATE = Command(update_user, UserPatch)
