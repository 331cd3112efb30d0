"""Fiscal periods with their closing checklist (ACC-27) and closing a month (ACC-28).

Checklist items of a month, each blocking the closure while its count is not zero:
- `unreconciled_bank`: bank accounts with statement lines dated on or before the month end
  that are not matched;
- `unfiled_tax`: for the last month of a calendar quarter (returns are filed per quarter), no
  filed tax return covers the quarter's last day. Earlier months of a quarter close without it,
  otherwise a quarter's first month could not close before the quarter ends;
- `open_pos_shifts`: POS shifts opened on or before the month end and still open;
- `unpaid_payroll`: payroll runs of the month not yet paid.
Set-based: the facts of a whole year cost four grouped statements, whatever the number of months.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import periods
from tsh.domain.accounting.models import BankAccount, FiscalPeriod, StatementLine, TaxReturn
from tsh.domain.actor import Actor
from tsh.domain.hr.models import PayrollRun
from tsh.domain.pos.models import Shift
from tsh.domain.shared import day_start_utc
from tsh.platform.errors import Conflict, NotFound, field_error

LABELS = {
    "unreconciled_bank": "Bank accounts with unmatched statement lines up to the month end",
    "unfiled_tax": "Tax return of the quarter not filed",
    "open_pos_shifts": "POS shifts still open",
    "unpaid_payroll": "Payroll runs of the month not paid",
}


async def _facts(session: AsyncSession) -> dict[str, Any]:
    unmatched = list(
        await session.execute(
            select(StatementLine.bank_account_id, func.min(StatementLine.date))
            .join(BankAccount, BankAccount.id == StatementLine.bank_account_id)
            .where(StatementLine.match_id.is_(None))
            .group_by(StatementLine.bank_account_id)
        )
    )
    shifts = list(await session.scalars(select(Shift.opened_at).where(Shift.status == "open")))
    runs = list(
        await session.execute(
            select(PayrollRun.year, PayrollRun.month, func.count())
            .where(PayrollRun.status != "paid")
            .group_by(PayrollRun.year, PayrollRun.month)
        )
    )
    returns = list(await session.execute(select(TaxReturn.period_from, TaxReturn.period_to)))
    return {
        "unmatched": [(bank, first) for bank, first in unmatched],
        "shifts": shifts,
        "runs": {(y, m): int(n) for y, m, n in runs},
        "returns": returns,
    }


def _items(period: FiscalPeriod, facts: dict[str, Any]) -> list[dict[str, Any]]:
    end = period.ends_on
    end_moment: datetime = day_start_utc(end + timedelta(days=1))
    quarter_end = period.month % 3 == 0
    filed = any(start <= end <= stop for start, stop in facts["returns"])
    counts = {
        "unreconciled_bank": sum(1 for _, first in facts["unmatched"] if first <= end),
        "unfiled_tax": 1 if quarter_end and not filed else 0,
        "open_pos_shifts": sum(1 for opened in facts["shifts"] if opened < end_moment),
        "unpaid_payroll": facts["runs"].get((period.year, period.month), 0),
    }
    return [{"code": k, "label": LABELS[k], "count": n, "blocking": n > 0} for k, n in counts.items()]


def _row(p: FiscalPeriod, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": p.id,
        "year": p.year,
        "month": p.month,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "status": p.status,
        "closed_at": p.closed_at,
        "closed_by_id": p.closed_by_id,
        "note": p.note,
        "closing_entry_id": p.closing_entry_id,
        "checklist": items,
        "ready": p.status == "open" and not any(i["blocking"] for i in items),
    }


async def fiscal_periods(session: AsyncSession, *, year: int) -> list[dict[str, Any]]:
    """ACC-27: the year's months in order; open months carry their checklist, closed ones none."""
    rows = list(
        await session.scalars(
            select(FiscalPeriod).where(FiscalPeriod.year == year).order_by(FiscalPeriod.month)
        )
    )
    facts = await _facts(session) if any(p.status == "open" for p in rows) else {}
    return [_row(p, _items(p, facts) if p.status == "open" else []) for p in rows]


async def close_period(
    session: AsyncSession, actor: Actor, *, period_id: int, note: str | None
) -> dict[str, Any]:
    """Close a month: 404 NOT_FOUND; 409 INVALID_TRANSITION when already closed; 409
    PREVIOUS_PERIOD_OPEN (lists them); 409 CHECKLIST_INCOMPLETE (lists the blocking items).
    Closing December posts the year-end closing entry (JournalPosted). Emits
    LedgerSetupChanged. Never commits."""
    period = await session.scalar(select(FiscalPeriod).where(FiscalPeriod.id == period_id).with_for_update())
    if period is None:
        raise NotFound("Fiscal period not found", code="NOT_FOUND")
    if period.status == "closed":
        raise Conflict("The period is already closed", code="INVALID_TRANSITION")
    earlier = list(
        await session.scalars(
            select(FiscalPeriod)
            .where(
                or_(
                    FiscalPeriod.year < period.year,
                    and_(FiscalPeriod.year == period.year, FiscalPeriod.month < period.month),
                ),
                FiscalPeriod.status == "open",
            )
            .order_by(FiscalPeriod.year, FiscalPeriod.month)
        )
    )
    if earlier:
        raise Conflict(
            "An earlier period is still open",
            code="PREVIOUS_PERIOD_OPEN",
            details=[field_error("status", "open", id=p.id, year=p.year, month=p.month) for p in earlier],
        )
    blocking = [i for i in _items(period, await _facts(session)) if i["blocking"]]
    if blocking:
        raise Conflict(
            "The closing checklist has open items",
            code="CHECKLIST_INCOMPLETE",
            details=[field_error(i["code"], i["label"], count=i["count"]) for i in blocking],
        )
    closed = await periods.set_period_status(
        session, period_id=period.id, status="closed", note=note, by_user_id=actor.user_id
    )
    return _row(closed, [])
