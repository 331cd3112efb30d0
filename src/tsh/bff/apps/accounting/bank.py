"""Bank reconciliation: ACC-17 bank accounts, ACC-18 statement import, ACC-19 workspace,
ACC-20 matches, ACC-21 undo a match, ACC-22 close a reconciliation."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from tsh.bff.apps.accounting import ACCOUNTANT, app
from tsh.bff.call import Call, Created
from tsh.bff.schemas import MAX_AMOUNT, Body, DateIn, DecimalIn, Id, Page, decode_cursor, encode_cursor
from tsh.bff.views import Date, MoneyOut, RowId, Timestamp, View
from tsh.domain.finance.bank import (
    NewStatementLine,
    close_reconciliation,
    import_lines,
    match_lines,
    undo_match,
)
from tsh.domain.finance.bank_views import bank_accounts as bank_account_rows
from tsh.domain.finance.bank_views import workspace
from tsh.domain.money import has_valid_places
from tsh.domain.shared import business_today

Currency = Literal["IQD", "USD"]


class SignedMoney(BaseModel):
    """A signed money input (+ in, − out); not zero."""

    model_config = ConfigDict(extra="forbid")
    validation_codes: ClassVar[tuple[str, ...]] = ("INVALID_AMOUNT",)
    amount: DecimalIn
    currency: Currency

    @model_validator(mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("amount"), float):
            raise PydanticCustomError("code:INVALID_AMOUNT", "amount must be a decimal string")
        return value

    @model_validator(mode="after")
    def _check(self) -> SignedMoney:
        if not self.amount.is_finite() or self.amount.copy_abs() > MAX_AMOUNT:
            raise PydanticCustomError("code:INVALID_AMOUNT", "amount is out of range")
        if not has_valid_places(self.amount, self.currency):
            raise PydanticCustomError(
                "code:INVALID_AMOUNT", "IQD has no fractional dinars; USD at most 2 decimals"
            )
        return self


class AccountRef(View):
    id: RowId
    code: str
    name_en: str
    name_ar: str


class LastReconciliation(View):
    id: RowId
    statement_date: Date
    statement_balance: MoneyOut
    closed_at: Timestamp


class BankAccountRow(View):
    """`last_statement_balance`: null until a first reconciliation gives the statement an opening."""

    id: RowId
    account: AccountRef
    kind: Literal["bank", "cash"]
    bank_name: str | None
    account_number: str | None
    currency: Currency
    book_balance: MoneyOut
    last_statement_date: Date | None
    last_statement_balance: MoneyOut | None
    unmatched_statement_lines: int
    last_reconciliation: LastReconciliation | None


class BankAccounts(View):
    items: list[BankAccountRow]


@app.screen(
    "ACC-17",
    "/bank-accounts",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("JournalPosted", "BankReconciled", "LedgerSetupChanged"),
    response=BankAccounts,
)
async def bank_accounts(call: Call) -> dict[str, Any]:
    """Bank and cash accounts with book and statement balances and reconciliation state."""
    return {"items": await bank_account_rows(call.session, today=business_today())}


class StatementLineIn(Body):
    date: DateIn
    amount: SignedMoney
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    reference: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None


class StatementImport(Body):
    lines: list[StatementLineIn] = Field(min_length=1, max_length=1000)


class ImportResult(View):
    imported: int
    skipped: int
    auto_matched: int
    line_ids: list[RowId]


@app.action(
    "ACC-18",
    "POST",
    "/bank-accounts/{id}/statement-lines",
    roles=ACCOUNTANT,
    scope="all",
    events=("BankReconciled",),
    errors=("CURRENCY_MISMATCH", "RECONCILED_PERIOD"),
    response=ImportResult,
    audit_entity="bank_account",
)
async def import_statement(call: Call, *, body: StatementImport, id: int) -> Created:
    """Imports statement lines (duplicates skipped) and auto-matches exact book lines."""
    lines = [
        NewStatementLine(ln.date, ln.amount.amount, ln.amount.currency, ln.description, ln.reference)
        for ln in body.lines
    ]
    result = await import_lines(call.session, call.actor, bank_account_id=id, lines=lines)
    call.audit("bank_account", id, after={k: result[k] for k in ("imported", "skipped", "auto_matched")})
    return Created(result)


class WorkspaceQuery(Page):
    to: DateIn | None = None


class StatementRow(View):
    id: RowId
    date: Date
    amount: MoneyOut
    description: str
    reference: str | None


class BookRow(View):
    id: RowId
    entry_id: RowId
    entry_number: str
    date: Date
    amount: MoneyOut
    reference: str | None
    memo: str | None


class Suggestion(View):
    statement_line_id: RowId
    journal_line_id: RowId
    score: int


class Workspace(View):
    """`difference`: Σ unmatched statement lines − Σ outstanding book lines up to `to`."""

    bank_account_id: RowId
    currency: Currency
    to: Date
    items: list[StatementRow]
    next_cursor: str | None
    book_lines: list[BookRow]
    suggestions: list[Suggestion]
    matched_lines: int
    matched_total: MoneyOut
    open_matches: int
    unmatched_statement_total: MoneyOut
    outstanding_book_total: MoneyOut
    book_balance: MoneyOut
    difference: MoneyOut
    last_reconciled_date: Date | None


@app.screen(
    "ACC-19",
    "/bank-accounts/{id}/reconciliation",
    roles=ACCOUNTANT,
    scope="all",
    cache="financial",
    events=("BankReconciled", "JournalPosted"),
    response=Workspace,
)
async def reconciliation(call: Call, *, query: WorkspaceQuery, id: int) -> dict[str, Any]:
    """Reconciliation workspace: unmatched lines on both sides, scored suggestions, totals."""
    data = await workspace(
        call.session,
        bank_account_id=id,
        to=query.to or business_today(),
        limit=query.limit,
        after=decode_cursor(query.cursor),
    )
    position = data.pop("next_cursor_position")
    return {**data, "next_cursor": None if position is None else encode_cursor(position)}


class MatchBody(Body):
    statement_line_ids: list[Id] = Field(min_length=1, max_length=100)
    journal_line_ids: list[Id] = Field(default_factory=list, max_length=100)
    difference_account_id: Id | None = None


class MatchOut(View):
    id: RowId
    bank_account_id: RowId
    statement_line_ids: list[RowId]
    journal_line_ids: list[RowId]
    difference_entry_id: RowId | None


@app.action(
    "ACC-20",
    "POST",
    "/bank-accounts/{id}/matches",
    roles=ACCOUNTANT,
    scope="all",
    events=("BankReconciled", "JournalPosted"),
    idempotency="required",
    errors=(
        "AMOUNT_MISMATCH",
        "ALREADY_MATCHED",
        "ACCOUNT_NOT_FOUND",
        "ACCOUNT_NOT_POSTABLE",
        "ACCOUNT_INACTIVE",
        "PERIOD_CLOSED",
        "TAX_PERIOD_FILED",
    ),
    response=MatchOut,
    audit_entity="bank_match",
)
async def match(call: Call, *, body: MatchBody, id: int) -> Created:
    """Matches statement lines to book lines, booking a remaining difference when asked."""
    row = await match_lines(
        call.session,
        call.actor,
        bank_account_id=id,
        statement_line_ids=body.statement_line_ids,
        journal_line_ids=body.journal_line_ids,
        difference_account_id=body.difference_account_id,
    )
    out = {
        "id": row.id,
        "bank_account_id": row.bank_account_id,
        "statement_line_ids": sorted(set(body.statement_line_ids)),
        "journal_line_ids": sorted(link.journal_line_id for link in row.journal_lines),
        "difference_entry_id": row.difference_entry_id,
    }
    call.audit("bank_match", row.id, after=out)
    return Created(out)


class Unmatched(View):
    id: RowId
    bank_account_id: RowId
    statement_line_ids: list[RowId]
    reversal_entry_id: RowId | None


@app.action(
    "ACC-21",
    "DELETE",
    "/bank-matches/{id}",
    roles=ACCOUNTANT,
    scope="all",
    events=("BankReconciled", "JournalPosted"),
    idempotency="required",
    errors=("RECONCILIATION_CLOSED", "PERIOD_CLOSED", "TAX_PERIOD_FILED"),
    response=Unmatched,
    audit_entity="bank_match",
)
async def unmatch(call: Call, *, id: int) -> dict[str, Any]:
    """Undoes a match; a difference entry booked with it is reversed."""
    out = await undo_match(call.session, call.actor, match_id=id)
    call.audit("bank_match", id, before={"statement_line_ids": out["statement_line_ids"]}, after=None)
    return out


class ClosureBody(Body):
    statement_date: DateIn
    statement_balance: SignedMoney


class ReconciliationOut(View):
    id: RowId
    bank_account_id: RowId
    statement_date: Date
    statement_balance: MoneyOut
    book_balance: MoneyOut
    closed_at: Timestamp


@app.action(
    "ACC-22",
    "POST",
    "/bank-accounts/{id}/reconciliation/closure",
    roles=ACCOUNTANT,
    scope="all",
    events=("BankReconciled",),
    errors=("RECONCILIATION_DIFFERENCE", "UNMATCHED_LINES", "DATE_BEFORE_LAST_CLOSURE", "CURRENCY_MISMATCH"),
    response=ReconciliationOut,
    audit_entity="reconciliation",
)
async def close(call: Call, *, body: ClosureBody, id: int) -> Created:
    """Closes the reconciliation at a statement date once book and statement agree."""
    rec = await close_reconciliation(
        call.session,
        call.actor,
        bank_account_id=id,
        statement_date=body.statement_date,
        statement_balance=body.statement_balance.amount,
        currency=body.statement_balance.currency,
    )
    out = {
        "id": rec.id,
        "bank_account_id": rec.bank_account_id,
        "statement_date": rec.statement_date,
        "statement_balance": {
            "amount": f"{rec.statement_balance:.2f}",
            "currency": body.statement_balance.currency,
        },
        "book_balance": {"amount": f"{rec.book_balance:.2f}", "currency": body.statement_balance.currency},
        "closed_at": rec.closed_at,
    }
    call.audit("reconciliation", rec.id, after={"statement_date": str(rec.statement_date)})
    return Created(out)
