"""ASO-06 technician schedule."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.aso import ALL_STAFF, ALL_STAFF_SCOPE, app
from tsh.bff.apps.aso.views import Schedule
from tsh.bff.call import Call
from tsh.bff.schemas import DateIn, Id, Query
from tsh.domain.aftersales.schedule import technician_schedule


class ScheduleQuery(Query):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")
    technician_id: Id | None = None
    skill: Literal["repair", "installation", "maintenance"] | None = None


@app.screen(
    "ASO-06",
    "/schedule",
    roles=ALL_STAFF,
    scope=ALL_STAFF_SCOPE,
    cache="orders",
    events=("ServiceRequestChanged", "LeaveChanged", "EmployeeChanged"),
    errors=("RANGE_TOO_LONG",),
    response=Schedule,
    vary_by_language=True,
)
async def schedule(call: Call, *, query: ScheduleQuery) -> dict[str, Any]:
    """Technician schedule for a date range: per technician the jobs, free slots and daily load;
    days off and leave shown as unavailable."""
    return await technician_schedule(
        call.session,
        call.actor,
        date_from=query.date_from,
        date_to=query.date_to,
        technician_id=query.technician_id,
        skill=query.skill,
    )
