"""ASO-01 service dashboard, ASO-20 performance report."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.aso import ALL_STAFF, ALL_STAFF_SCOPE, DESK, DESK_SCOPE, app
from tsh.bff.apps.aso.views import Dashboard, Performance
from tsh.bff.call import Call, Section
from tsh.bff.schemas import DateIn, Id, Query
from tsh.domain.aftersales import reports


class DashboardQuery(Query):
    date: DateIn | None = None


@app.screen(
    "ASO-01",
    "/dashboard",
    roles=ALL_STAFF,
    scope=ALL_STAFF_SCOPE,
    cache="dashboard",
    events=("ServiceRequestChanged", "ReturnChanged", "RefundIssued", "WarrantyChanged", "PartsChanged"),
    errors=("SECTION_TIMEOUT",),
    response=Dashboard,
    vary_by_language=True,
)
async def dashboard(call: Call, *, query: DashboardQuery) -> dict[str, Any]:
    """Service dashboard: open requests by status and priority, SLA breaches, the day's jobs per
    technician, returns awaiting decision, refunds this week, warranties expiring, parts low
    (a technician: only their own jobs and figures).

    Sections: `requests` (open requests, SLA breaches; required), `jobs` (the day's jobs), `desk`
    (returns, refunds, warranties, parts): a late or failed one is its last good value (stale)
    or null.
    """
    parts = await reports.dashboard_parts(call.session, call.actor, day=query.date)
    got = await call.sections(
        {
            "requests": Section(parts["requests"], budget_ms=5000, required=True),
            "jobs": Section(parts["jobs"], budget_ms=1000),
            "desk": Section(parts["desk"], budget_ms=1000),
        }
    )
    data: dict[str, Any] = got["requests"]
    data |= got["jobs"] or {"todays_jobs": None}
    data |= got["desk"] or dict.fromkeys(reports.DESK_FIELDS)
    return data


class PerformanceQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    technician_id: Id | None = None
    group_by: Literal["technician", "type", "product"] = "technician"


@app.screen(
    "ASO-20",
    "/reports/performance",
    roles=DESK,
    scope=DESK_SCOPE,
    cache="dashboard",
    events=("ServiceRequestChanged", "ReturnChanged", "RefundIssued"),
    errors=("RANGE_TOO_LONG",),
    response=Performance,
    vary_by_language=True,
)
async def performance(call: Call, *, query: PerformanceQuery) -> dict[str, Any]:
    """Service performance for a period: requests opened and closed, SLA met, first-time fixes,
    time to resolve, jobs and labour per technician, returns by reason and product, refunds."""
    return await reports.performance(
        call.session,
        call.actor,
        date_from=query.date_from,
        date_to=query.date_to,
        technician_id=query.technician_id,
        group_by=query.group_by,
    )
