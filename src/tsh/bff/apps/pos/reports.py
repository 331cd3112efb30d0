"""POS-16 sales report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.pos import RowId, actor_of, app
from tsh.bff.apps.pos.views import PosSalesReport
from tsh.bff.call import Call
from tsh.bff.schemas import DateIn, Query
from tsh.domain.pos.reports import sales_report


class ReportQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    group_by: Literal["day", "hour", "cashier", "category", "terminal"] = "day"
    terminal_id: RowId | None = None
    branch_id: RowId | None = None


@app.screen(
    "POS-16",
    "/reports/sales",
    roles=("branch_manager", "accountant"),
    scope={"branch_manager": "branch", "accountant": "all"},
    cache="financial",
    events=("PosSaleCompleted", "RefundIssued"),
    errors=("RANGE_TOO_LONG", "BRANCH_NOT_FOUND"),
    response=PosSalesReport,
)
async def sales(call: Call, *, query: ReportQuery) -> dict[str, Any]:
    """Sales report for a period (422 RANGE_TOO_LONG above 366 days)."""
    return await sales_report(
        call.session,
        actor_of(call),
        date_from=query.date_from,
        date_to=query.date_to,
        group_by=query.group_by,
        terminal_id=query.terminal_id,
        branch_id=query.branch_id,
    )
