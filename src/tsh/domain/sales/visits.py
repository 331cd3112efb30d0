"""Field visits and daily routes (domain.md §5, apps/salesperson.md SAL-05..08).

A route is the salesperson's visits of one Baghdad business date ordered by `sequence`. Planned
visits not checked in by the end of their day show as `skipped`. Distances are straight-line
(haversine) estimates from the branch to the first stop, then stop to stop; ETAs assume an average
city speed of 30 km/h (no external routing service).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.customers.models import Customer
from tsh.domain.events import raise_event
from tsh.domain.identity.models import User
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import Order, Payment, Visit
from tsh.domain.shared import business_today, haversine_m
from tsh.platform.db.base import utcnow
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error

MAX_GPS_ACCURACY_M = 100.0
DEFAULT_GEOFENCE_M = 150
MAX_ROUTE_STOPS = 40
CITY_SPEED_KMH = 30.0


def eta_minutes(distance_m: float) -> int:
    """Minutes to drive `distance_m` at the assumed city average speed (30 km/h), rounded up."""
    return int(-(-distance_m * 60 // (CITY_SPEED_KMH * 1000)))


async def _owner_branches(session: AsyncSession, salesperson_id: int, *extra: int | None) -> list[int | None]:
    branch = await session.scalar(select(User.branch_id).where(User.id == salesperson_id))
    return [branch, *extra]


def _visit_events(
    session: AsyncSession, salesperson_id: int, branches: Sequence[int | None], customers: Sequence[int]
) -> None:
    raise_event(session, "VisitRecorded", users=[salesperson_id], branches=branches, customers=customers)


async def check_in(
    session: AsyncSession,
    *,
    salesperson_id: int,
    customer_id: int,
    lat: float,
    lng: float,
    accuracy_m: float,
    device_time: dt.datetime,
    visit_id: int | None = None,
) -> Visit:
    """Check in at an own customer (404 otherwise); fulfils the planned stop of today if there is one.

    409 VISIT_IN_PROGRESS while another visit is open; 422 LOW_GPS_ACCURACY above 100 m. The visit
    is `verified` inside the branch geofence of the customer's location; with no location, or
    outside, it is accepted unverified. Emits VisitRecorded.
    """
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.salesperson_id == salesperson_id)
    )
    if customer is None:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    open_id = await session.scalar(
        select(Visit.id).where(Visit.salesperson_id == salesperson_id, Visit.status == "checked_in")
    )
    if open_id is not None:
        raise Conflict(
            "Check out of the open visit first",
            code="VISIT_IN_PROGRESS",
            details=[field_error("visit_id", "a visit is in progress", visit_id=open_id)],
        )
    if accuracy_m > MAX_GPS_ACCURACY_M:
        raise Invalid(
            "The GPS fix is not accurate enough",
            code="LOW_GPS_ACCURACY",
            details=[field_error("geo.accuracy_m", "must be at most 100 m")],
        )
    today = business_today()
    planned = select(Visit).where(
        Visit.salesperson_id == salesperson_id,
        Visit.customer_id == customer_id,
        Visit.status == "planned",
        Visit.date == today,
    )
    if visit_id is not None:
        planned = planned.where(Visit.id == visit_id)
    visit = (await session.execute(planned.order_by(Visit.sequence).limit(1))).scalar_one_or_none()
    if visit is None and visit_id is not None:
        raise NotFound("Planned visit not found", code="VISIT_NOT_FOUND")
    if visit is None:
        last = await session.scalar(
            select(func.max(Visit.sequence)).where(
                Visit.salesperson_id == salesperson_id, Visit.date == today
            )
        )
        visit = Visit(
            salesperson_id=salesperson_id,
            customer_id=customer_id,
            date=today,
            sequence=(last + 1) if last is not None else 0,
        )
        session.add(visit)
    radius = DEFAULT_GEOFENCE_M
    if customer.branch_id is not None:
        radius = (
            await session.scalar(select(Branch.geofence_radius_m).where(Branch.id == customer.branch_id))
            or DEFAULT_GEOFENCE_M
        )
    distance = (
        None
        if customer.lat is None or customer.lng is None
        else haversine_m(lat, lng, customer.lat, customer.lng)
    )
    visit.status, visit.check_in_at, visit.device_time = "checked_in", utcnow(), device_time
    visit.check_in_lat, visit.check_in_lng, visit.check_in_accuracy_m = lat, lng, accuracy_m
    visit.distance_m = None if distance is None else round(distance, 1)
    visit.verified = distance is not None and distance <= radius
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent check-in won the one-open-visit index
        raise Conflict("Check out of the open visit first", code="VISIT_IN_PROGRESS") from None
    _visit_events(
        session,
        salesperson_id,
        await _owner_branches(session, salesperson_id, customer.branch_id),
        [customer_id],
    )
    return visit


async def check_out(
    session: AsyncSession,
    *,
    salesperson_id: int,
    visit_id: int,
    lat: float,
    lng: float,
    accuracy_m: float,
    device_time: dt.datetime,
    outcome: str,
    notes: str | None = None,
    media_ids: Sequence[int] = (),
) -> Visit:
    """End an open own visit (404 otherwise, 409 VISIT_NOT_OPEN unless checked in).

    Orders and payments of the salesperson for this customer made since check-in, not yet linked
    to a visit, are linked to it. Emits VisitRecorded.
    """
    visit = (
        await session.execute(
            select(Visit)
            .where(Visit.id == visit_id, Visit.salesperson_id == salesperson_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if visit is None:
        raise NotFound("Visit not found", code="VISIT_NOT_FOUND")
    if visit.status != "checked_in" or visit.check_in_at is None:
        raise Conflict("The visit is not open", code="VISIT_NOT_OPEN")
    now = utcnow()
    visit.status, visit.check_out_at, visit.check_out_device_time = "completed", now, device_time
    visit.check_out_lat, visit.check_out_lng, visit.check_out_accuracy_m = lat, lng, accuracy_m
    visit.outcome, visit.notes, visit.media_ids = outcome, notes, list(media_ids)
    orders = (
        await session.execute(
            select(Order).where(
                Order.salesperson_id == salesperson_id,
                Order.customer_id == visit.customer_id,
                Order.visit_id.is_(None),
                Order.placed_at >= visit.check_in_at,
            )
        )
    ).scalars()
    for order in orders:
        order.visit_id = visit.id
    payments = (
        await session.execute(
            select(Payment).where(
                Payment.collected_by_id == salesperson_id,
                Payment.customer_id == visit.customer_id,
                Payment.visit_id.is_(None),
                Payment.received_at >= visit.check_in_at,
            )
        )
    ).scalars()
    for payment in payments:
        payment.visit_id = visit.id
    _visit_events(
        session, salesperson_id, await _owner_branches(session, salesperson_id), [visit.customer_id]
    )
    return visit


async def replace_route(
    session: AsyncSession,
    *,
    salesperson_id: int,
    day: dt.date,
    stops: Sequence[tuple[int, dt.datetime | None]],
) -> None:
    """Replace the not-yet-started (planned) stops of a day with `stops` = [(customer_id, planned_time)].

    422 DATE_IN_PAST; 404 when a customer is not the salesperson's; 422 TOO_MANY_STOPS above 40.
    Checked-in, completed and skipped visits keep their place; the new stops follow them in the
    given order. Emits VisitRecorded.
    """
    if day < business_today():
        raise Invalid(
            "The route date is in the past",
            code="DATE_IN_PAST",
            details=[field_error("date", "must be today or later")],
        )
    wanted = {cid for cid, _ in stops}
    own = set(
        (
            await session.execute(
                select(Customer.id).where(Customer.id.in_(wanted), Customer.salesperson_id == salesperson_id)
            )
        ).scalars()
    )
    if own != wanted:
        raise NotFound("Customer not found", code="CUSTOMER_NOT_FOUND")
    if len(stops) > MAX_ROUTE_STOPS:
        raise Invalid(
            "A route has at most 40 stops",
            code="TOO_MANY_STOPS",
            details=[field_error("stops", "at most 40", max=MAX_ROUTE_STOPS)],
        )
    existing = (
        (
            await session.execute(
                select(Visit)
                .where(Visit.salesperson_id == salesperson_id, Visit.date == day)
                .order_by(Visit.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    kept = [v for v in existing if v.status != "planned"]
    for v in existing:
        if v.status == "planned":
            await session.delete(v)
    start = max((v.sequence for v in kept), default=-1) + 1
    session.add_all(
        Visit(
            salesperson_id=salesperson_id,
            customer_id=cid,
            date=day,
            sequence=start + i,
            planned_time=planned,
            status="planned",
        )
        for i, (cid, planned) in enumerate(stops)
    )
    await session.flush()
    _visit_events(
        session,
        salesperson_id,
        await _owner_branches(session, salesperson_id),
        sorted(wanted | {v.customer_id for v in existing}),
    )


async def route_view(session: AsyncSession, *, salesperson_id: int, day: dt.date) -> dict[str, Any]:
    """The route of a day with distances and ETAs, plus up to 20 customers due a visit."""
    branch = (
        await session.execute(
            select(Branch.id, Branch.lat, Branch.lng)
            .join(User, User.branch_id == Branch.id)
            .where(User.id == salesperson_id)
        )
    ).first()
    rows = (
        await session.execute(
            select(Visit, Customer.name, Customer.shop_name, Customer.lat, Customer.lng)
            .join(Customer, Customer.id == Visit.customer_id)
            .where(Visit.salesperson_id == salesperson_id, Visit.date == day)
            .order_by(Visit.sequence, Visit.id)
        )
    ).all()
    today = business_today()
    prev = (branch.lat, branch.lng) if branch is not None else (None, None)
    total = 0.0
    stops = []
    for visit, name, shop, lat, lng in rows:
        leg = None
        if None not in prev and lat is not None and lng is not None:
            leg = haversine_m(prev[0], prev[1], lat, lng)  # type: ignore[arg-type]
            total += leg
        if lat is not None and lng is not None:
            prev = (lat, lng)
        status = "skipped" if visit.status == "planned" and day < today else visit.status
        stops.append(
            {
                "visit_id": visit.id,
                "sequence": visit.sequence,
                "customer": {"id": visit.customer_id, "name": name, "shop_name": shop},
                "geo": None if lat is None else {"lat": lat, "lng": lng},
                "planned_time": visit.planned_time,
                "status": status,
                "verified": visit.verified,
                "check_in_at": visit.check_in_at,
                "distance_from_previous_m": None if leg is None else round(leg),
                "eta_from_previous_min": None if leg is None else eta_minutes(leg),
            }
        )
    return {
        "date": day,
        "salesperson_id": salesperson_id,
        "start": None if branch is None else {"branch_id": branch.id, "lat": branch.lat, "lng": branch.lng},
        "stops": stops,
        "total_distance_m": round(total),
        "total_eta_min": eta_minutes(total),
        "assumed_speed_kmh": CITY_SPEED_KMH,
        "due_customers": await _due_customers(
            session, salesperson_id, today, {v.customer_id for v, *_ in rows}
        ),
    }


async def _due_customers(
    session: AsyncSession, salesperson_id: int, today: dt.date, on_route: set[int]
) -> list[dict[str, Any]]:
    """Up to 20 own active customers not visited for 14 days or with overdue invoices (one statement)."""
    from tsh.domain.sales.models import Invoice

    last_visit = (
        select(func.max(Visit.date))
        .where(Visit.customer_id == Customer.id, Visit.status.in_(("checked_in", "completed")))
        .scalar_subquery()
    )
    overdue = (
        select(func.coalesce(func.sum(Invoice.balance), 0))
        .where(
            Invoice.customer_id == Customer.id,
            Invoice.status.in_(("open", "partial")),
            Invoice.due_date < today,
        )
        .scalar_subquery()
    )
    cutoff = today - dt.timedelta(days=14)
    stmt = (
        select(
            Customer.id,
            Customer.name,
            Customer.shop_name,
            Customer.lat,
            Customer.lng,
            Customer.currency,
            last_visit.label("last_visit"),
            overdue.label("overdue"),
        )
        .where(Customer.salesperson_id == salesperson_id, Customer.status == "active")
        .where((func.coalesce(last_visit, dt.date(1900, 1, 1)) < cutoff) | (overdue > 0))
        .order_by(func.coalesce(last_visit, dt.date(1900, 1, 1)), Customer.id)
        .limit(20 + len(on_route))
    )
    out = []
    for r in (await session.execute(stmt)).all():
        if r.id in on_route:
            continue
        out.append(
            {
                "customer": {"id": r.id, "name": r.name, "shop_name": r.shop_name},
                "geo": None if r.lat is None else {"lat": r.lat, "lng": r.lng},
                "last_visit_date": r.last_visit,
                "has_overdue": r.overdue > 0,
                "reason": "overdue" if r.overdue > 0 else "not_visited_14_days",
            }
        )
    return out[:20]
