"""Tax: rate versions (ACC-24), the tax summary of a period (ACC-25) and filing a return (ACC-26).

Figures come from the ledger: output tax = net credits to the sales-tax-collected account
(`vat_output`), input tax = net debits to the tax-paid account (`vat_input`), both without the
settlement entries of filed returns, by the branch of each line. The split by tax code comes from
the documents: invoiced order lines and completed POS lines, each mapped to the tax code of its
product (a product points at one version of a code; the code is what is reported). Documents do
not store the rate they used yet (clarifications.md asks for that column; it is not added here),
so the by-code split is derived, and the ledger figures stay the authority for the totals.

A filed return freezes its figures (TaxReturn.breakdown) and posts the settlement, dated on the
filing day: vat_output and vat_input are moved to tax_payable. Entries dated in a filed period are
refused by posting (409 TAX_PERIOD_FILED).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import posting
from tsh.domain.accounting.models import Account, FiscalPeriod, JournalEntry, JournalLine, TaxRate, TaxReturn
from tsh.domain.actor import Actor
from tsh.domain.catalog.models import Product
from tsh.domain.events import raise_event
from tsh.domain.finance.queries import ZERO, dec
from tsh.domain.money import BASE_CURRENCY, wire
from tsh.domain.pos.models import PosLine, PosTransaction
from tsh.domain.sales.models import Invoice, OrderLine
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

SETTLEMENT = "tax_return"


async def create_rate_version(
    session: AsyncSession,
    actor: Actor,
    *,
    code: str,
    name: str,
    rate: Decimal,
    kind: str,
    effective_from: date,
    account_id: int,
) -> TaxRate:
    """A new code, or a new version of one from `effective_from` (the open version ends the day
    before). 422 RATE_OUT_OF_RANGE; 409 PERIOD_CLOSED; 404 ACCOUNT_NOT_FOUND; 422
    ACCOUNT_NOT_POSTABLE; 409 DUPLICATE when a version already starts on or after that date;
    422 VALIDATION_ERROR when the kind differs from the code's. Emits LedgerSetupChanged and
    PriceChanged (tax-inclusive prices change). Never commits."""
    if rate < 0 or rate > 100:
        raise Invalid(
            "A tax rate is between 0 and 100",
            code="RATE_OUT_OF_RANGE",
            details=[field_error("rate", "0-100")],
        )
    closed = await session.scalar(
        select(FiscalPeriod.id).where(
            FiscalPeriod.year == effective_from.year,
            FiscalPeriod.month == effective_from.month,
            FiscalPeriod.status == "closed",
        )
    )
    if closed is not None:
        raise Conflict(f"The period {effective_from:%Y-%m} is closed", code="PERIOD_CLOSED")
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(
            "Account not found", code="ACCOUNT_NOT_FOUND", details=[field_error("account_id", "not found")]
        )
    if not account.is_postable or not account.is_active:
        raise Invalid(
            "The tax account must take postings",
            code="ACCOUNT_NOT_POSTABLE",
            details=[field_error("account_id", "not postable or inactive")],
        )
    versions = list(
        await session.scalars(
            select(TaxRate).where(TaxRate.code == code).order_by(TaxRate.effective_from).with_for_update()
        )
    )
    if versions and versions[0].kind != kind:
        raise Invalid(details=[field_error("kind", f"the code is a {versions[0].kind} code")])
    later = [v for v in versions if v.effective_from >= effective_from]
    if later:
        raise Conflict(
            "A version of this code already starts on or after that date",
            code="DUPLICATE",
            details=[field_error("effective_from", "not after the latest version", id=later[0].id)],
        )
    for v in versions:
        if v.effective_to is None or v.effective_to >= effective_from:
            v.effective_to = effective_from - timedelta(days=1)
    row = TaxRate(
        code=code, name=name, rate=rate, kind=kind, account_id=account_id, effective_from=effective_from
    )
    session.add(row)
    await session.flush()
    raise_event(session, "LedgerSetupChanged", everyone=True, tax_rate_id=row.id)
    raise_event(session, "PriceChanged", everyone=True, tax_rate_id=row.id)
    return row


async def _ledger_tax(
    session: AsyncSession, date_from: date, date_to: date, branch_id: int | None
) -> dict[int | None, dict[str, Decimal]]:
    """Output and input tax per branch of the lines, without settlement entries."""
    output_id = await posting.account_id(session, "vat_output")
    input_id = await posting.account_id(session, "vat_input")
    stmt = (
        select(
            JournalLine.branch_id,
            JournalLine.account_id,
            func.sum(JournalLine.base_debit),
            func.sum(JournalLine.base_credit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account_id.in_((output_id, input_id)),
            JournalEntry.date >= date_from,
            JournalEntry.date <= date_to,
            JournalEntry.source_type != SETTLEMENT,
        )
        .group_by(JournalLine.branch_id, JournalLine.account_id)
    )
    if branch_id is not None:
        stmt = stmt.where(JournalLine.branch_id == branch_id)
    out: dict[int | None, dict[str, Decimal]] = defaultdict(lambda: {"output": ZERO, "input": ZERO})
    for branch, account, d, c in await session.execute(stmt):
        if account == output_id:
            out[branch]["output"] += dec(c) - dec(d)
        else:
            out[branch]["input"] += dec(d) - dec(c)
    return out


async def _by_code(
    session: AsyncSession, date_from: date, date_to: date, branch_id: int | None
) -> dict[tuple[str | None, int], Decimal]:
    """Output tax of invoiced order lines and completed POS lines per (tax code, branch), in IQD."""
    out: dict[tuple[str | None, int], Decimal] = defaultdict(lambda: ZERO)
    rate = func.coalesce(JournalEntry.exchange_rate, 1)
    inv = (
        select(TaxRate.code, Invoice.branch_id, func.sum(OrderLine.tax * rate))
        .join(OrderLine, OrderLine.order_id == Invoice.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(TaxRate, TaxRate.id == Product.tax_rate_id)
        .outerjoin(JournalEntry, JournalEntry.id == Invoice.journal_entry_id)
        .where(
            Invoice.issue_date >= date_from,
            Invoice.issue_date <= date_to,
            Invoice.status != "void",
            OrderLine.tax > 0,
        )
        .group_by(TaxRate.code, Invoice.branch_id)
    )
    pos = (
        select(TaxRate.code, PosTransaction.branch_id, func.sum(PosLine.tax))
        .join(PosLine, PosLine.transaction_id == PosTransaction.id)
        .join(Product, Product.id == PosLine.product_id)
        .outerjoin(TaxRate, TaxRate.id == Product.tax_rate_id)
        .where(
            PosTransaction.status == "completed",
            PosTransaction.completed_at >= day_start_utc(date_from),
            PosTransaction.completed_at < day_start_utc(date_to + timedelta(days=1)),
            PosLine.tax > 0,
        )
        .group_by(TaxRate.code, PosTransaction.branch_id)
    )
    if branch_id is not None:
        inv = inv.where(Invoice.branch_id == branch_id)
        pos = pos.where(PosTransaction.branch_id == branch_id)
    for stmt in (inv, pos):
        for code, branch, tax in await session.execute(stmt):
            out[(code, branch)] += dec(tax).quantize(Decimal("1"))
    return out


def check_range(date_from: date, date_to: date) -> None:
    if date_from > date_to:
        raise Invalid(
            "The period starts after it ends",
            code="INVALID_PERIOD",
            details=[field_error("from", "after to")],
        )


async def tax_summary(
    session: AsyncSession, *, date_from: date, date_to: date, branch_id: int | None
) -> dict[str, Any]:
    """ACC-25: output, input and net tax of the period, by branch and by code, and filing status."""
    check_range(date_from, date_to)
    ledger = await _ledger_tax(session, date_from, date_to, branch_id)
    codes = await _by_code(session, date_from, date_to, branch_id)
    output = sum((v["output"] for v in ledger.values()), ZERO)
    input_ = sum((v["input"] for v in ledger.values()), ZERO)
    returns = list(
        await session.scalars(
            select(TaxReturn)
            .where(TaxReturn.period_from <= date_to, TaxReturn.period_to >= date_from)
            .order_by(TaxReturn.period_from)
        )
    )
    covered = (
        returns
        and min(r.period_from for r in returns) <= date_from
        and max(r.period_to for r in returns) >= date_to
    )
    status = "filed" if covered else ("partly_filed" if returns else "not_filed")
    return {
        "from": date_from,
        "to": date_to,
        "branch_id": branch_id,
        "output_tax": wire(output, BASE_CURRENCY),
        "input_tax": wire(input_, BASE_CURRENCY),
        "net_payable": wire(output - input_, BASE_CURRENCY),
        "by_branch": [
            {
                "branch_id": b,
                "output_tax": wire(v["output"], BASE_CURRENCY),
                "input_tax": wire(v["input"], BASE_CURRENCY),
                "net": wire(v["output"] - v["input"], BASE_CURRENCY),
            }
            for b, v in sorted(ledger.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
        "by_code": [
            {"code": code, "branch_id": branch, "output_tax": wire(tax, BASE_CURRENCY)}
            for (code, branch), tax in sorted(codes.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        ],
        "filed_status": status,
        "returns": [
            {
                "id": r.id,
                "from": r.period_from,
                "to": r.period_to,
                "reference": r.reference,
                "net": wire(r.net, BASE_CURRENCY),
                "filed_at": r.filed_at,
            }
            for r in returns
        ],
    }


async def file_return(
    session: AsyncSession, actor: Actor, *, date_from: date, date_to: date, reference: str | None
) -> TaxReturn:
    """File the return of a past period: 422 INVALID_PERIOD (from after to, or to not before
    today); 409 ALREADY_FILED for an overlapping filed period; the settlement may answer
    PERIOD_CLOSED for today's period. Emits JournalPosted with a settlement. Never commits."""
    check_range(date_from, date_to)
    today = business_today()
    if date_to >= today:
        raise Invalid(
            "Only a past period can be filed",
            code="INVALID_PERIOD",
            details=[field_error("to", "not before today")],
        )
    # Serialise filings: the overlapping check and the insert must not interleave.
    await session.scalar(select(Account.id).where(Account.system_key == "tax_payable").with_for_update())
    overlap = await session.scalar(
        select(TaxReturn.id)
        .where(TaxReturn.period_from <= date_to, TaxReturn.period_to >= date_from)
        .limit(1)
    )
    if overlap is not None:
        raise Conflict(
            "A return of an overlapping period is filed",
            code="ALREADY_FILED",
            details=[field_error("from", "overlaps", id=overlap)],
        )
    figures = await tax_summary(session, date_from=date_from, date_to=date_to, branch_id=None)
    output = Decimal(figures["output_tax"]["amount"])
    input_ = Decimal(figures["input_tax"]["amount"])
    ret = TaxReturn(
        period_from=date_from,
        period_to=date_to,
        output_tax=max(output, ZERO),
        input_tax=max(input_, ZERO),
        net=max(output, ZERO) - max(input_, ZERO),
        reference=reference,
        filed_by_id=actor.user_id,
        breakdown=[{"kind": "branch", **r} for r in figures["by_branch"]]
        + [{"kind": "code", **r} for r in figures["by_code"]],
    )
    session.add(ret)
    await session.flush()
    lines: list[posting.Line] = []
    for row in figures["by_branch"]:
        out_b, in_b = Decimal(row["output_tax"]["amount"]), Decimal(row["input_tax"]["amount"])
        if out_b > 0:
            lines.append(
                posting.Line("vat_output", debit=out_b, branch_id=row["branch_id"], memo="Output tax settled")
            )
        if in_b > 0:
            lines.append(
                posting.Line("vat_input", credit=in_b, branch_id=row["branch_id"], memo="Input tax settled")
            )
    net = sum((ln.debit - ln.credit for ln in lines), ZERO)
    if net > 0:
        lines.append(posting.Line("tax_payable", credit=net, memo="Tax payable"))
    elif net < 0:
        lines.append(posting.Line("tax_payable", debit=-net, memo="Tax receivable"))
    if len(lines) >= 2:
        entry = await posting.post_entry(
            session,
            journal="TAX",
            entry_date=today,
            currency=BASE_CURRENCY,
            lines=lines,
            memo=f"Tax return {date_from} - {date_to}",
            source_type=SETTLEMENT,
            source_id=ret.id,
            branch_id=None,
            posted_by_id=actor.user_id,
            reference=reference,
        )
        ret.journal_entry_id = entry.id
    await session.flush()
    raise_event(session, "LedgerSetupChanged", everyone=True, tax_return_id=ret.id)
    return ret
