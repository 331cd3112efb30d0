"""HR-22 open a review cycle, HR-23 reviews, HR-24 one review, HR-25 save or submit a review."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.hr import EVERYONE, EVERYONE_SCOPES, app
from tsh.bff.apps.hr.views import Person, ReviewStatus
from tsh.bff.call import Call, Created
from tsh.bff.schemas import Body, DateIn, Id, LongText, Page, Text, decode_cursor, page
from tsh.bff.views import Date, DecimalText, Named, RowId, Timestamp, View
from tsh.domain.hr.review_views import cycle_view, review, review_count, reviews
from tsh.domain.hr.reviews import open_cycle, save_review
from tsh.domain.hr.scope import after_id


class Criterion(Body):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    title: Text
    weight: int = Field(ge=1, le=100)


class NewCycle(Body):
    name: Text
    period_from: DateIn
    period_to: DateIn
    criteria: list[Criterion] = Field(min_length=1, max_length=20)
    self_due: DateIn
    manager_due: DateIn
    department_id: Id | None = None
    branch_id: Id | None = None


class CriterionOut(View):
    code: str
    title: str
    weight: int


class Cycle(View):
    id: RowId
    name: str
    status: Literal["open", "closed"]
    period_from: Date
    period_to: Date
    self_due: Date
    manager_due: Date
    department_id: RowId | None
    branch_id: RowId | None
    criteria: list[CriterionOut]
    review_count: int


@app.action(
    "HR-22",
    "POST",
    "/review-cycles",
    roles=("hr_manager",),
    scope="all",
    events=("ReviewCycleChanged",),
    idempotency="optional",
    audit_entity="review_cycle",
    errors=("CYCLE_OVERLAP", "WEIGHTS_NOT_100"),
    response=Cycle,
)
async def open_(call: Call, *, body: NewCycle) -> Created:
    """Opens a review cycle with one review per active employee in scope."""
    cycle = await open_cycle(
        call.session,
        name=body.name,
        period_from=body.period_from,
        period_to=body.period_to,
        criteria=[c.model_dump() for c in body.criteria],
        self_due=body.self_due,
        manager_due=body.manager_due,
        actor=call.actor,
        department_id=body.department_id,
        branch_id=body.branch_id,
    )
    count = await review_count(call.session, cycle.id)
    call.audit("review_cycle", cycle.id, after={"name": cycle.name, "reviews": count})
    return Created(cycle_view(cycle, count))


class ReviewsQuery(Page):
    cycle_id: Id | None = None
    status: ReviewStatus | None = None
    employee_id: Id | None = None
    role: Literal["reviewee", "reviewer"] | None = None


class CycleRef(View):
    id: RowId
    name: str
    status: Literal["open", "closed"]


class ReviewRow(View):
    id: RowId
    employee: Person
    cycle: CycleRef
    reviewer: Named | None
    status: ReviewStatus
    overall_score: DecimalText | None
    due: Date


class ReviewsPage(View):
    items: list[ReviewRow]
    next_cursor: str | None


@app.screen(
    "HR-23",
    "/reviews",
    roles=EVERYONE,
    scope=EVERYONE_SCOPES,
    cache="people",
    events=("ReviewCycleChanged", "EmployeeChanged"),
    response=ReviewsPage,
)
async def list_(call: Call, *, query: ReviewsQuery) -> dict[str, Any]:
    """Reviews: employee, cycle, reviewer, status, overall score, due date."""
    rows = await reviews(
        call.session,
        call.actor,
        limit=query.limit,
        after_id=after_id(decode_cursor(query.cursor)),
        cycle_id=query.cycle_id,
        status=query.status,
        employee_id=query.employee_id,
        role=query.role,
    )
    return page(rows, query.limit, lambda r: {"i": r["id"]})


class CycleDetail(CycleRef):
    period_from: Date
    period_to: Date
    self_due: Date
    manager_due: Date


class Score(View):
    code: str
    score: int
    comment: str | None


class Step(View):
    event: Literal["opened", "self_submitted", "completed"]
    at: Timestamp
    by: Named | None


class Review(View):
    id: RowId
    employee: Person
    cycle: CycleDetail
    reviewer: Named | None
    status: ReviewStatus
    criteria: list[CriterionOut]
    self_scores: list[Score] | None
    self_summary: str | None
    manager_scores: list[Score] | None
    summary: str | None
    overall_score: DecimalText | None
    can_edit_as: Literal["reviewee", "reviewer"] | None
    history: list[Step]


@app.screen(
    "HR-24",
    "/reviews/{id}",
    roles=EVERYONE,
    scope=EVERYONE_SCOPES,
    cache="people",
    events=("ReviewCycleChanged",),
    errors=("REVIEW_NOT_FOUND",),
    response=Review,
)
async def one(call: Call, *, id: int) -> dict[str, Any]:
    """One review: criteria, self and manager scores (the reviewee sees the latter once completed)."""
    return await review(call.session, call.actor, id)


class ScoreIn(Body):
    code: str = Field(min_length=1, max_length=40)
    score: int = Field(ge=1, le=5)
    comment: LongText | None = None


class Assessment(Body):
    scores: list[ScoreIn] = Field(max_length=20)
    summary: LongText | None = None
    submit: bool = False


@app.action(
    "HR-25",
    "PUT",
    "/reviews/{id}",
    roles=("employee",),
    scope="own",
    events=("ReviewCycleChanged",),
    idempotency="optional",
    audit_entity="performance_review",
    errors=("REVIEW_NOT_FOUND", "NOT_YOUR_TURN", "CYCLE_CLOSED", "MISSING_CRITERIA"),
    response=Review,
)
async def save(call: Call, *, body: Assessment, id: int) -> dict[str, Any]:
    """Saves or submits the self-assessment (reviewee) or the manager assessment (reviewer)."""
    rv = await save_review(
        call.session,
        review_id=id,
        actor=call.actor,
        scores=[s.model_dump() for s in body.scores],
        summary=body.summary,
        submit=body.submit,
    )
    call.audit("performance_review", rv.id, after={"status": rv.status, "submit": body.submit})
    return await review(call.session, call.actor, rv.id)
