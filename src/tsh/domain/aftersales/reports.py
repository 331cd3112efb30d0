"""Service dashboard (ASO-01) and performance report (ASO-20).

Dashboard figures are for the caller's branch; a technician (`own`) gets only their own jobs and
the requests holding them, and the branch-wide figures (returns, refunds, warranties, parts) are
null for them rather than shown as zero. "Refunds this week" are the seven business days ending
on the dashboard date.

Performance: a request is *resolved* by its first job completed with outcome fixed or replaced;
the SLA is met when that completion is not later than the request's SLA due time; a first-time
fix is a resolved request with a single job that was not cancelled; time to resolve runs from
opening to that completion. Returns and refunds count those opened / issued in the period.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.actor import Actor
from tsh.domain.aftersales.access import Reach, reach
from tsh.domain.aftersales.models import (
    Job,
    Part,
    PartStock,
    Refund,
    ReturnLine,
    ReturnRequest,
    ServiceRequest,
    Warranty,
)
from tsh.domain.aftersales.queries import products_by_id, technician_names
from tsh.domain.aftersales.service_requests import OPEN_STATUSES
from tsh.domain.money import wire
from tsh.domain.sales.models import OrderLine
from tsh.domain.shared import business_today, day_start_utc
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Invalid, field_error

MAX_REPORT_DAYS = 366
RESOLVING = ("fixed", "replaced")


def _scoped(stmt: Any, r: Reach) -> Any:
    if r.branch_id is not None:
        stmt = stmt.where(ServiceRequest.branch_id == r.branch_id)
    if r.technician_id is not None:
        stmt = stmt.where(
            ServiceRequest.id.in_(select(Job.service_request_id).where(Job.technician_id == r.technician_id))
        )
    return stmt


def _money_totals(rows: list[tuple[str, Decimal]]) -> list[dict[str, Any]]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in rows:
        totals[currency] += amount
    return [wire(v, c) for c, v in sorted(totals.items())]  # type: ignore[misc]


DashboardPart = Callable[[AsyncSession], Awaitable[dict[str, Any]]]
DESK_FIELDS = (
    "returns_awaiting_decision",
    "refunds_this_week",
    "warranties_expiring_30d",
    "parts_below_reorder",
)


async def dashboard_parts(
    session: AsyncSession, actor: Actor, *, day: dt.date | None = None
) -> dict[str, DashboardPart]:
    """ASO-01 as the parts the screen runs as sections: `requests` (open requests by status and
    priority, SLA breaches), `jobs` (the day's jobs per technician), `desk` (returns, refunds,
    warranties, parts: all null for a technician, who sees only their own jobs and figures)."""
    r = await reach(session, actor)
    on = day or business_today()
    return {
        "requests": lambda s: _requests(s, r, on),
        "jobs": lambda s: _jobs(s, actor, r, on),
        "desk": lambda s: _desk(s, r, on),
    }


async def _requests(session: AsyncSession, r: Reach, day: dt.date) -> dict[str, Any]:
    open_rows = (
        await session.execute(
            _scoped(
                select(ServiceRequest.status, ServiceRequest.priority, ServiceRequest.sla_due_at).where(
                    ServiceRequest.status.in_(OPEN_STATUSES)
                ),
                r,
            )
        )
    ).all()
    now = utcnow()
    by_status = Counter(s for s, _, _ in open_rows)
    by_priority = Counter(p for _, p, _ in open_rows)
    breaches = sum(1 for _, _, due in open_rows if (due if due.tzinfo else due.replace(tzinfo=dt.UTC)) < now)
    return {
        "date": day,
        "open_requests": {
            "total": len(open_rows),
            "by_status": [{"status": s, "count": by_status[s]} for s in OPEN_STATUSES],
            "by_priority": [
                {"priority": p, "count": by_priority[p]} for p in ("urgent", "high", "normal", "low")
            ],
        },
        "sla_breaches": breaches,
    }


async def _jobs(session: AsyncSession, actor: Actor, r: Reach, day: dt.date) -> dict[str, Any]:
    jobs_stmt = (
        select(Job.technician_id, Job.status, Job.duration_min)
        .join(ServiceRequest, ServiceRequest.id == Job.service_request_id)
        .where(Job.start >= day_start_utc(day), Job.start < day_start_utc(day + dt.timedelta(days=1)))
        .where(Job.status != "cancelled")
    )
    if r.branch_id is not None:
        jobs_stmt = jobs_stmt.where(ServiceRequest.branch_id == r.branch_id)
    if r.technician_id is not None:
        jobs_stmt = jobs_stmt.where(Job.technician_id == r.technician_id)
    per_tech: dict[int, dict[str, int]] = defaultdict(lambda: {"jobs": 0, "completed": 0, "booked_min": 0})
    for tech_id, status, minutes in (await session.execute(jobs_stmt)).tuples():
        row = per_tech[tech_id]
        row["jobs"] += 1
        row["booked_min"] += minutes
        row["completed"] += status == "completed"
    names = await technician_names(session, actor, set(per_tech))
    return {"todays_jobs": [{"technician": names[t], **v} for t, v in sorted(per_tech.items())]}


async def _desk(session: AsyncSession, r: Reach, day: dt.date) -> dict[str, Any]:
    if r.technician_id is not None:
        return dict.fromkeys(DESK_FIELDS)
    branch = r.branch_id
    ret_stmt = select(func.count()).where(ReturnRequest.status == "requested")
    ref_stmt = select(Refund.currency, Refund.amount).where(
        Refund.source == "return",
        Refund.issued_at >= day_start_utc(day - dt.timedelta(days=6)),
        Refund.issued_at < day_start_utc(day + dt.timedelta(days=1)),
    )
    parts_stmt = (
        select(func.count())
        .select_from(PartStock)
        .join(Part, Part.id == PartStock.part_id)
        .where(Part.is_active.is_(True), PartStock.on_hand - PartStock.reserved < Part.reorder_point)
    )
    if branch is not None:
        ret_stmt = ret_stmt.where(ReturnRequest.branch_id == branch)
        ref_stmt = ref_stmt.where(Refund.branch_id == branch)
        parts_stmt = parts_stmt.where(PartStock.branch_id == branch)
    refunds = list((await session.execute(ref_stmt)).tuples())
    # Warranties carry no branch: a customer may bring a product to any branch (ASO-15).
    expiring = await session.scalar(
        select(func.count()).where(
            Warranty.status == "active",
            Warranty.ends_on >= day,
            Warranty.ends_on <= day + dt.timedelta(days=30),
        )
    )
    return {
        "returns_awaiting_decision": int(await session.scalar(ret_stmt) or 0),
        "refunds_this_week": {"count": len(refunds), "totals": _money_totals(refunds)},
        "warranties_expiring_30d": int(expiring or 0),
        "parts_below_reorder": int(await session.scalar(parts_stmt) or 0),
    }


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


async def performance(
    session: AsyncSession,
    actor: Actor,
    *,
    date_from: dt.date,
    date_to: dt.date,
    technician_id: int | None = None,
    group_by: str = "technician",
) -> dict[str, Any]:
    """422 when from is after to; 422 RANGE_TOO_LONG above 366 days."""
    if date_from > date_to:
        raise Invalid(details=[field_error("from", "after to")])
    if (date_to - date_from).days + 1 > MAX_REPORT_DAYS:
        raise Invalid(
            f"At most {MAX_REPORT_DAYS} days",
            code="RANGE_TOO_LONG",
            details=[field_error("to", "range too long", max_days=MAX_REPORT_DAYS)],
        )
    r = await reach(session, actor)
    lo, hi = day_start_utc(date_from), day_start_utc(date_to + dt.timedelta(days=1))
    if technician_id is not None:
        r = Reach(r.branch_id, r.technician_id if r.technician_id is not None else technician_id)
    opened = int(
        await session.scalar(
            _scoped(select(func.count()).select_from(ServiceRequest), r).where(
                ServiceRequest.created_at >= lo, ServiceRequest.created_at < hi
            )
        )
        or 0
    )
    closed = int(
        await session.scalar(
            _scoped(select(func.count()).select_from(ServiceRequest), r).where(
                ServiceRequest.status == "closed",
                ServiceRequest.closed_at >= lo,
                ServiceRequest.closed_at < hi,
            )
        )
        or 0
    )
    # Every job of requests with a job completed in the period (set-based; grouped in Python).
    touched = _scoped(
        select(ServiceRequest.id).join(Job, Job.service_request_id == ServiceRequest.id), r
    ).where(Job.completed_at >= lo, Job.completed_at < hi)
    rows = (
        await session.execute(
            select(
                ServiceRequest.id,
                ServiceRequest.type,
                ServiceRequest.product_id,
                ServiceRequest.created_at,
                ServiceRequest.sla_due_at,
                Job.technician_id,
                Job.status,
                Job.outcome,
                Job.completed_at,
                Job.labour_min,
            )
            .join(Job, Job.service_request_id == ServiceRequest.id)
            .where(ServiceRequest.id.in_(touched))
            .order_by(ServiceRequest.id, Job.completed_at, Job.id)
        )
    ).all()
    by_request: dict[int, list[Any]] = defaultdict(list)
    labour: dict[int, dict[str, int]] = defaultdict(lambda: {"jobs_completed": 0, "labour_min": 0})
    for row in rows:
        by_request[row.id].append(row)
        in_period = row.completed_at is not None and lo <= _utc(row.completed_at) < hi
        if (
            row.status == "completed"
            and in_period
            and (technician_id is None or row.technician_id == technician_id)
        ):
            labour[row.technician_id]["jobs_completed"] += 1
            labour[row.technician_id]["labour_min"] += row.labour_min or 0
    resolved = []
    for jobs in by_request.values():
        fix = next((j for j in jobs if j.status == "completed" and j.outcome in RESOLVING), None)
        if fix is None or not (lo <= _utc(fix.completed_at) < hi):
            continue
        live = [j for j in jobs if j.status != "cancelled"]
        resolved.append(
            {
                "key": {"technician": fix.technician_id, "type": fix.type, "product": fix.product_id}[
                    group_by
                ],
                "met": _utc(fix.completed_at) <= _utc(fix.sla_due_at),
                "first_time": len(live) == 1,
                "hours": (_utc(fix.completed_at) - _utc(fix.created_at)).total_seconds() / 3600,
            }
        )
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for item in resolved:
        groups[item["key"]].append(item)
    if group_by == "technician":
        labels = {
            k: v["name"]
            for k, v in (await technician_names(session, actor, set(groups) | set(labour))).items()
        }
    elif group_by == "product":
        labels = {k: v["name"] for k, v in (await products_by_id(session, actor, set(groups))).items()}
    else:
        labels = {k: k for k in groups}
    tech_labels = await technician_names(session, actor, set(labour))
    ret_stmt = (
        select(ReturnLine.reason, OrderLine.product_id, ReturnLine.qty)
        .join(ReturnRequest, ReturnRequest.id == ReturnLine.return_id)
        .join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnRequest.created_at >= lo, ReturnRequest.created_at < hi)
    )
    ref_stmt = select(Refund.currency, Refund.amount).where(
        Refund.source == "return", Refund.issued_at >= lo, Refund.issued_at < hi
    )
    if r.branch_id is not None:
        ret_stmt = ret_stmt.where(ReturnRequest.branch_id == r.branch_id)
        ref_stmt = ref_stmt.where(Refund.branch_id == r.branch_id)
    reasons: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    products: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for reason, product_id, qty in (await session.execute(ret_stmt)).tuples():
        reasons[reason][0] += 1
        reasons[reason][1] += qty
        products[product_id][0] += 1
        products[product_id][1] += qty
    product_names = await products_by_id(session, actor, set(products))
    refunds = list((await session.execute(ref_stmt)).tuples())
    return {
        "from": date_from,
        "to": date_to,
        "requests_opened": opened,
        "requests_closed": closed,
        "requests_resolved": len(resolved),
        "sla_met_pct": _pct(sum(i["met"] for i in resolved), len(resolved)),
        "first_time_fix_pct": _pct(sum(i["first_time"] for i in resolved), len(resolved)),
        "mean_hours_to_resolve": round(sum(i["hours"] for i in resolved) / len(resolved), 1)
        if resolved
        else None,
        "technicians": [{"technician": tech_labels[t], **v} for t, v in sorted(labour.items())],
        "group_by": group_by,
        "groups": [
            {
                "key": str(k),
                "label": str(labels.get(k, k)),
                "resolved": len(items),
                "sla_met_pct": _pct(sum(i["met"] for i in items), len(items)),
                "first_time_fix_pct": _pct(sum(i["first_time"] for i in items), len(items)),
            }
            for k, items in sorted(groups.items(), key=lambda kv: -len(kv[1]))
        ],
        "returns_by_reason": [
            {"reason": k, "returns": v[0], "qty": v[1]}
            for k, v in sorted(reasons.items(), key=lambda kv: -kv[1][1])
        ],
        "returns_by_product": [
            {"product": product_names[k], "returns": v[0], "qty": v[1]}
            for k, v in sorted(products.items(), key=lambda kv: -kv[1][1])[:20]
        ],
        "refunds": {"count": len(refunds), "totals": _money_totals(refunds)},
    }


def _utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
