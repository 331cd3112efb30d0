"""SAL-05..08: the route of a day, replanning it, and visit check-in / check-out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.salesperson import MANAGERS, app
from tsh.bff.apps.salesperson.views import SalRoute, SalVisit
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, DateTimeIn, Geo, Id, LongText, Query
from tsh.domain.sales import field_actions, visits
from tsh.domain.sales.field import route_screen, salesperson_for
from tsh.domain.sales.field_actions import visit_view

SCOPES = {"salesperson": "own", "branch_manager": "branch"}


class RouteQuery(Query):
    date: DateIn | None = None
    salesperson_id: Id | None = None


@app.screen(
    "SAL-05",
    "/route",
    roles=MANAGERS,
    scope=SCOPES,
    cache="customers",
    events=("VisitRecorded", "CustomerChanged", "CreditChanged"),
    errors=("SALESPERSON_NOT_FOUND",),
    response=SalRoute,
)
async def route(call: Call, *, query: RouteQuery) -> dict[str, Any]:
    """Route of a day with straight-line distances and ETAs (30 km/h), plus customers due a visit."""
    return await route_screen(call.session, call.actor, salesperson_id=query.salesperson_id, day=query.date)


class Stop(Body):
    customer_id: Id
    planned_time: DateTimeIn | None = None


class RouteBody(Body):
    date: DateIn
    # TOO_MANY_STOPS (above 40) is a business rule; this bound only caps the body.
    stops: list[Stop] = Field(max_length=200)
    salesperson_id: Id | None = None


@app.action(
    "SAL-06",
    "PUT",
    "/route",
    roles=MANAGERS,
    scope=SCOPES,
    events=("VisitRecorded",),
    audit_entity="route",
    errors=("DATE_IN_PAST", "TOO_MANY_STOPS", "SALESPERSON_NOT_FOUND", "CUSTOMER_NOT_FOUND"),
    response=SalRoute,
)
async def replace_route(call: Call, *, body: RouteBody) -> dict[str, Any]:
    """Replaces the not-yet-started stops of a day with the given ordered list; answers the route."""
    salesperson_id = await salesperson_for(call.session, call.actor, body.salesperson_id)
    await visits.replace_route(
        call.session,
        salesperson_id=salesperson_id,
        day=body.date,
        stops=[(s.customer_id, s.planned_time) for s in body.stops],
    )
    call.audit(
        "route",
        None,
        after={
            "salesperson_id": salesperson_id,
            "date": body.date.isoformat(),
            "stops": [s.customer_id for s in body.stops],
        },
    )
    return await visits.route_view(call.session, salesperson_id=salesperson_id, day=body.date)


class CheckIn(Body):
    customer_id: Id
    geo: Geo
    device_time: DateTimeIn
    visit_id: Id | None = None


@app.action(
    "SAL-07",
    "POST",
    "/visits",
    roles=("salesperson",),
    scope="own",
    events=("VisitRecorded",),
    audit_entity="visit",
    errors=("VISIT_IN_PROGRESS", "LOW_GPS_ACCURACY", "CUSTOMER_NOT_FOUND"),
    response=SalVisit,
)
async def check_in(call: Call, *, body: CheckIn) -> Created:
    """Checks in at a customer: GPS fix, distance to the shop, verified inside the geofence."""
    visit = await field_actions.check_in(
        call.session,
        call.actor,
        customer_id=body.customer_id,
        lat=body.geo.lat,
        lng=body.geo.lng,
        accuracy_m=body.geo.accuracy_m,
        device_time=body.device_time,
        visit_id=body.visit_id,
    )
    call.audit("visit", visit.id, after={"status": visit.status, "verified": visit.verified})
    return Created(visit_view(visit))


class CheckOut(Body):
    geo: Geo
    device_time: DateTimeIn
    outcome: Literal["order_taken", "payment_collected", "no_order", "shop_closed", "owner_absent"]
    notes: LongText | None = None
    media_ids: list[Id] = Field(default_factory=list, max_length=10)


@app.action(
    "SAL-08",
    "POST",
    "/visits/{id}/check-out",
    roles=("salesperson",),
    scope="own",
    events=("VisitRecorded",),
    audit_entity="visit",
    errors=("VISIT_NOT_OPEN", "VISIT_NOT_FOUND"),
    response=SalVisit,
)
async def check_out(call: Call, *, id: int, body: CheckOut) -> dict[str, Any]:
    """Ends a visit with its outcome and notes; links the orders and payments made during it."""
    visit = await visits.check_out(
        call.session,
        salesperson_id=call.actor.user_id,
        visit_id=id,
        lat=body.geo.lat,
        lng=body.geo.lng,
        accuracy_m=body.geo.accuracy_m,
        device_time=body.device_time,
        outcome=body.outcome,
        notes=body.notes,
        media_ids=body.media_ids,
    )
    call.audit("visit", visit.id, after={"status": visit.status, "outcome": visit.outcome})
    return visit_view(visit)
