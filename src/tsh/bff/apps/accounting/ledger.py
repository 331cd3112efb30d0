"""ACC-02/03 chart and account detail, ACC-04/05 account maintenance, ACC-06/07 journal,
ACC-08 manual entry, ACC-09 reversal."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from tsh.bff.apps.accounting import ACCOUNTANT, Amount, app
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, DecimalIn, Id, Page, Query, Text, decode_cursor, page
from tsh.bff.views import Date, DecimalText, MoneyOut, Named, RowId, Timestamp, View
from tsh.bff.views import Page as PageOut
from tsh.domain.accounting import posting
from tsh.domain.finance.accounts import NewAccount, create_account, update_account
from tsh.domain.finance.journal import post_manual_entry, reverse_manual_entry
from tsh.domain.finance.queries import (
    JournalFilter,
    account_detail,
    chart_tree,
    entry_position,
    journal_entries,
    journal_entry,
)
from tsh.domain.shared import business_today

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]
FlowClass = Literal["operating", "investing", "financing", "cash"]
Currency = Literal["IQD", "USD"]
JournalCode = Literal["GEN", "SAL", "POS", "CSH", "BNK", "PAY", "INV", "TAX"]
Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z.-]{1,20}$")]


class AccountHead(View):
    id: RowId
    code: str
    name_ar: str
    name_en: str
    type: AccountType
    parent_id: RowId | None
    is_postable: bool
    currency: Currency | None
    cash_flow_class: FlowClass | None
    is_active: bool
    level: int


class AccountNode(AccountHead):
    """`balance`: base IQD on the account's normal side, children rolled up into headers."""

    balance: MoneyOut
    children: list[AccountNode]


class ChartView(View):
    as_of: Date
    items: list[AccountNode]


class ChartQuery(Query):
    type: AccountType | None = None
    include_inactive: bool = False
    as_of: DateIn | None = None


@app.screen(
    "ACC-02",
    "/accounts",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    response=ChartView,
)
async def accounts(call: Call, *, query: ChartQuery) -> dict[str, Any]:
    """Chart of accounts as a tree with base balances (the whole tree, not paginated)."""
    return await chart_tree(
        call.session,
        call.actor,
        account_type=query.type,
        include_inactive=query.include_inactive,
        as_of=query.as_of or business_today(),
    )


class CurrencyBalance(View):
    currency: Currency
    balance: MoneyOut
    base: MoneyOut


class MonthMovement(View):
    month: str
    debit: MoneyOut
    credit: MoneyOut
    net: MoneyOut


class LineRow(View):
    id: RowId
    entry_id: RowId
    entry_number: str
    date: Date
    account_id: RowId
    debit: MoneyOut
    credit: MoneyOut
    base_debit: MoneyOut
    base_credit: MoneyOut
    branch_id: RowId | None
    customer_id: RowId | None
    memo: str | None


class AccountDetail(View):
    account: AccountHead
    balance: MoneyOut
    balances: list[CurrencyBalance]
    monthly: list[MonthMovement]
    lines: list[LineRow]


class DetailQuery(Query):
    branch_id: Id | None = None


@app.screen(
    "ACC-03",
    "/accounts/{id}",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted", "LedgerSetupChanged"),
    errors=("ACCOUNT_NOT_FOUND",),
    response=AccountDetail,
)
async def account(call: Call, *, query: DetailQuery, id: int) -> dict[str, Any]:
    """Account detail: balance per currency and in base, 12 months of movement, last 20 lines."""
    return await account_detail(
        call.session, call.actor, account_id=id, branch_id=query.branch_id, today=business_today()
    )


class NewAccountBody(Body):
    code: Code
    name_ar: Text
    name_en: Text
    type: AccountType
    parent_id: Id
    is_postable: bool
    currency: Currency | None = None
    cash_flow_class: FlowClass | None = None


class AccountOut(View):
    id: RowId
    code: str
    name_ar: str
    name_en: str
    type: AccountType
    parent_id: RowId | None
    is_postable: bool
    currency: Currency | None
    cash_flow_class: FlowClass | None
    is_active: bool


def _account_out(a: Any) -> dict[str, Any]:
    return {k: getattr(a, k) for k in AccountOut.model_fields}


ACCOUNT_ERRORS = ("ACCOUNT_CODE_TAKEN", "ACCOUNT_NOT_FOUND", "PARENT_POSTABLE", "TYPE_MISMATCH")


@app.action(
    "ACC-04",
    "POST",
    "/accounts",
    roles=ACCOUNTANT,
    scope="all",
    events=("LedgerSetupChanged",),
    errors=ACCOUNT_ERRORS,
    response=AccountOut,
    audit_entity="account",
)
async def add_account(call: Call, *, body: NewAccountBody) -> Created:
    """Adds an account to the chart."""
    new = NewAccount(**body.model_dump())
    row = await create_account(call.session, call.actor, new=new)
    call.audit("account", row.id, after=body.model_dump(mode="json"))
    return Created(_account_out(row))


class AccountChanges(Body):
    code: Code | None = None
    name_ar: Text | None = None
    name_en: Text | None = None
    type: AccountType | None = None
    parent_id: Id | None = None
    is_postable: bool | None = None
    cash_flow_class: FlowClass | None = None
    is_active: bool | None = None


@app.action(
    "ACC-05",
    "PATCH",
    "/accounts/{id}",
    roles=ACCOUNTANT,
    scope="all",
    events=("LedgerSetupChanged",),
    errors=(*ACCOUNT_ERRORS, "ACCOUNT_HAS_BALANCE", "FIELD_NOT_EDITABLE"),
    response=AccountOut,
    audit_entity="account",
)
async def change_account(call: Call, *, body: AccountChanges, id: int) -> dict[str, Any]:
    """Renames, moves or deactivates an account (code, type and postable flag only while unused)."""
    changes = body.model_dump(exclude_unset=True)
    # cash_flow_class may be cleared with an explicit null; the other fields cannot be null.
    changes = {k: v for k, v in changes.items() if v is not None or k == "cash_flow_class"}
    row, before = await update_account(call.session, call.actor, account_id=id, changes=changes)
    call.audit("account", row.id, before=before, after=changes)
    return _account_out(row)


class JournalQuery(Page):
    date_from: DateIn | None = Field(default=None, alias="from")
    date_to: DateIn | None = Field(default=None, alias="to")
    journal: JournalCode | None = None
    source_type: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,30}$")] | None = None
    account_id: Id | None = None
    status: Literal["posted", "reversed"] | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    branch_id: Id | None = None


class EntryRow(View):
    id: RowId
    number: str
    date: Date
    journal: JournalCode
    memo: str
    reference: str | None
    source_type: str
    source_id: RowId | None
    currency: Currency
    total: MoneyOut
    base_total: MoneyOut
    status: Literal["posted", "reversed"]
    branch_id: RowId | None
    posted_by: Named | None
    posted_at: Timestamp


@app.screen(
    "ACC-06",
    "/journal-entries",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted",),
    response=PageOut[EntryRow],
)
async def journal(call: Call, *, query: JournalQuery) -> dict[str, Any]:
    """Journal: entries newest first with total, currency, status and who posted them."""
    f = JournalFilter(
        date_from=query.date_from,
        date_to=query.date_to,
        journal=query.journal,
        source_type=query.source_type,
        account_id=query.account_id,
        status=query.status,
        text=query.q,
        branch_id=query.branch_id,
    )
    rows = await journal_entries(
        call.session, call.actor, f=f, limit=query.limit, after=decode_cursor(query.cursor)
    )
    return page(rows, query.limit, entry_position)


class AccountRef(View):
    id: RowId
    code: str
    name_ar: str
    name_en: str


class EntryLine(LineRow):
    account: AccountRef


class EntryRef(View):
    id: RowId
    number: str


class EntryDetail(EntryRow):
    exchange_rate: DecimalText
    system: bool
    reversal_of: EntryRef | None
    reversed_by: EntryRef | None
    lines: list[EntryLine]


@app.screen(
    "ACC-07",
    "/journal-entries/{id}",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted",),
    response=EntryDetail,
)
async def entry(call: Call, *, id: int) -> dict[str, Any]:
    """Entry with lines, exchange rate, source document and reversal links."""
    return await journal_entry(call.session, call.actor, entry_id=id)


class EntryLineIn(Body):
    account_id: Id
    debit: Amount = Decimal(0)
    credit: Amount = Decimal(0)
    branch_id: Id | None = None
    customer_id: Id | None = None
    memo: Text | None = None


class NewEntry(Body):
    date: DateIn
    memo: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    currency: Currency
    exchange_rate: Annotated[DecimalIn, Field(gt=0, le=1_000_000)] | None = None
    lines: list[EntryLineIn] = Field(max_length=200)
    reference: Text | None = None


ENTRY_ERRORS = (
    "UNBALANCED_ENTRY",
    "TOO_FEW_LINES",
    "INVALID_LINE",
    "INVALID_AMOUNT",
    "ACCOUNT_NOT_POSTABLE",
    "ACCOUNT_INACTIVE",
    "ACCOUNT_NOT_FOUND",
    "BRANCH_NOT_FOUND",
    "CUSTOMER_NOT_FOUND",
    "PERIOD_CLOSED",
    "TAX_PERIOD_FILED",
    "NO_EXCHANGE_RATE",
)


@app.action(
    "ACC-08",
    "POST",
    "/journal-entries",
    roles=ACCOUNTANT,
    scope="all",
    events=("JournalPosted",),
    idempotency="required",
    errors=ENTRY_ERRORS,
    response=EntryDetail,
    audit_entity="journal_entry",
)
async def post(call: Call, *, body: NewEntry) -> Created:
    """Posts a manual entry to the general journal."""
    lines = [
        posting.Line(
            ln.account_id,
            debit=ln.debit,
            credit=ln.credit,
            branch_id=ln.branch_id,
            customer_id=ln.customer_id,
            memo=ln.memo,
        )
        for ln in body.lines
    ]
    row = await post_manual_entry(
        call.session,
        call.actor,
        entry_date=body.date,
        memo=body.memo,
        currency=body.currency,
        exchange_rate=body.exchange_rate,
        lines=lines,
        reference=body.reference,
    )
    call.audit("journal_entry", row.id, after={"number": row.number, "total": str(row.total)})
    return Created(await journal_entry(call.session, call.actor, entry_id=row.id))


class Reversal(Body):
    date: DateIn
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]


@app.action(
    "ACC-09",
    "POST",
    "/journal-entries/{id}/reversal",
    roles=ACCOUNTANT,
    scope="all",
    events=("JournalPosted",),
    idempotency="required",
    errors=("ALREADY_REVERSED", "PERIOD_CLOSED", "SYSTEM_ENTRY", "TAX_PERIOD_FILED"),
    response=EntryDetail,
    audit_entity="journal_entry",
)
async def reverse(call: Call, *, body: Reversal, id: int) -> Created:
    """Reverses a posted manual entry with its mirror entry on the given date."""
    row = await reverse_manual_entry(
        call.session, call.actor, entry_id=id, entry_date=body.date, reason=body.reason
    )
    call.audit(
        "journal_entry", id, before={"status": "posted"}, after={"status": "reversed", "by": row.number}
    )
    return Created(await journal_entry(call.session, call.actor, entry_id=row.id))
