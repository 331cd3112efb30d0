"""SEC-01 dashboard, SEC-02 threats, SEC-03 threat detail, SEC-04 threat update."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.security import OFFICERS, app
from tsh.bff.apps.security.views import Person
from tsh.bff.call import Call, Section
from tsh.bff.schemas import Body, DateTimeIn, Id, LongText, Page, decode_cursor, page
from tsh.bff.views import Page as PageOf
from tsh.bff.views import RowId, Timestamp, View
from tsh.domain.identity.listing import position
from tsh.domain.identity.oversight import dashboard_parts
from tsh.domain.identity.threats import list_threats, threat_detail, update_threat

Severity = Literal["low", "medium", "high", "critical"]
ThreatType = Literal[
    "brute_force", "credential_stuffing", "token_reuse", "impossible_travel", "privilege_probe", "mass_export"
]
ThreatStatus = Literal["open", "investigating", "resolved", "false_positive"]


class OpenThreats(View):
    low: int
    medium: int
    high: int
    critical: int


class FailedLogins(View):
    last_hour: int
    last_24h: int


class AppSessions(View):
    app: str | None
    count: int


class RecentEvent(View):
    id: RowId
    at: Timestamp
    type: str
    severity: Severity
    user: Person | None
    ip: str | None
    threat_id: RowId | None


class Dashboard(View):
    """`active_sessions` and `recent_events` are null when their section could not be had
    (metadata.sections: timeout or error without a last good value)."""

    threat_level: Literal["none", "low", "medium", "high", "critical"]
    open_threats: OpenThreats
    failed_logins: FailedLogins
    active_lockouts: int
    blocked_ips: int
    active_sessions: list[AppSessions] | None
    refresh_reuse_24h: int
    detectors: dict[str, Literal["active", "unavailable"]]
    recent_events: list[RecentEvent] | None


@app.screen(
    "SEC-01",
    "/dashboard",
    roles=OFFICERS,
    scope="all",
    cache="none",
    errors=("SECTION_TIMEOUT",),
    response=Dashboard,
)
async def dashboard(call: Call) -> dict[str, Any]:
    """Live overview: threat level, open threats, failed logins, lockouts, blocks, sessions, events.

    Sections: `alarms` (threat level, threats, failed logins, lockouts, blocks, refresh reuse,
    detectors; required: an officer must not act on an old alarm), `sessions` and
    `recent_events`: a late or failed one is its last good value (stale) or null.
    """
    parts = dashboard_parts(call.actor, settings=call.ctx.settings)
    got = await call.sections(
        {
            "alarms": Section(parts["alarms"], budget_ms=5000, required=True),
            "sessions": Section(parts["sessions"], budget_ms=1000),
            "recent_events": Section(parts["recent_events"], budget_ms=1000),
        }
    )
    sessions = got["sessions"] or {"active_sessions": None}
    events = got["recent_events"] or {"recent_events": None}
    return {**got["alarms"], **sessions, **events}


class ThreatsQuery(Page):
    status: ThreatStatus | None = None
    severity: Severity | None = None
    type: ThreatType | None = None
    date_from: DateTimeIn | None = Field(default=None, alias="from")
    date_to: DateTimeIn | None = Field(default=None, alias="to")


class ThreatRow(View):
    id: RowId
    type: ThreatType
    severity: Severity
    status: ThreatStatus
    user: Person | None
    ips: list[str]
    first_seen: Timestamp
    last_seen: Timestamp
    event_count: int
    assignee: Person | None


@app.screen("SEC-02", "/threats", roles=OFFICERS, scope="all", cache="none", response=PageOf[ThreatRow])
async def threats(call: Call, *, query: ThreatsQuery) -> dict[str, Any]:
    """Detected threats, most recently seen first, filtered by status, severity, type and time."""
    rows = await list_threats(
        call.session,
        call.actor,
        limit=query.limit,
        after=decode_cursor(query.cursor),
        status=query.status,
        severity=query.severity,
        type=query.type,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return page(rows, query.limit, lambda t: position(t["last_seen"], t["id"]))


class AffectedUser(View):
    id: RowId
    name: str
    email: str
    status: str
    role: str


class ThreatSession(View):
    id: RowId
    app: str | None
    device_name: str | None
    ip: str | None
    started_at: Timestamp
    last_seen_at: Timestamp | None
    expires_at: Timestamp
    revoked_at: Timestamp | None


class IpState(View):
    ip: str
    blocked: bool


class ThreatEvent(View):
    id: RowId
    at: Timestamp
    type: str
    severity: Severity
    ip: str | None
    details: dict[str, Any]


class TimelineItem(View):
    at: Timestamp
    kind: Literal["first_seen", "event", "note"]
    text: str


class Note(View):
    by: Person | None
    at: Timestamp | None
    text: str


class ThreatDetail(ThreatRow):
    resolution: str | None
    affected_user: AffectedUser | None
    sessions: list[ThreatSession]
    ip_states: list[IpState]
    events: list[ThreatEvent]
    timeline: list[TimelineItem]
    notes: list[Note]


@app.screen("SEC-03", "/threats/{id}", roles=OFFICERS, scope="all", cache="none", response=ThreatDetail)
async def threat(call: Call, *, id: int) -> dict[str, Any]:
    """Threat detail: its security events, the affected user and sessions, IPs, timeline, notes."""
    return await threat_detail(call.session, call.actor, threat_id=id)


class ThreatUpdate(Body):
    status: Literal["investigating", "resolved", "false_positive"] | None = None
    assignee_id: Id | None = None
    note: LongText | None = None
    resolution: LongText | None = None


@app.action(
    "SEC-04",
    "PATCH",
    "/threats/{id}",
    roles=OFFICERS,
    scope="all",
    events=("SecurityEventRecorded",),
    idempotency="optional",
    audit_entity="threat",
    errors=("INVALID_TRANSITION", "RESOLUTION_REQUIRED", "ASSIGNEE_NOT_ELIGIBLE"),
    response=ThreatDetail,
)
async def update(call: Call, *, body: ThreatUpdate, id: int) -> dict[str, Any]:
    """Updates a threat's status, assignee and notes (resolved and false_positive are final)."""
    row, before = await update_threat(
        call.session,
        call.actor,
        threat_id=id,
        status=body.status,
        assignee_id=body.assignee_id,
        note=body.note,
        resolution=body.resolution,
    )
    after = {"status": row.status, "assignee_id": row.assignee_id, "resolution": row.resolution}
    call.audit("threat", row.id, before=before, after=after)
    return await threat_detail(call.session, call.actor, threat_id=id)
