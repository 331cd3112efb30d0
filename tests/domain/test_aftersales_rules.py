"""After-sales rules (apps/aso.md): service requests, claims, jobs, parts, warranties, returns, refunds.

Every test builds its own branch, technician, customer, products, parts and orders (unique codes),
so the seed and other tests never interfere. Rejected commands must change nothing (snapshot
compared), and the ledger and stock invariants hold afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.context import AppContext
from tsh.domain.accounting import posting
from tsh.domain.accounting.models import JournalEntry, JournalLine
from tsh.domain.aftersales import jobs, parts, returns, service_requests, warranties
from tsh.domain.aftersales.models import (
    Job,
    Part,
    PartRequest,
    PartStock,
    Refund,
    ReturnLine,
    ReturnRequest,
    ServiceRequest,
    Technician,
    Warranty,
)
from tsh.domain.catalog.models import Category, Product
from tsh.domain.customers.models import Address, Customer
from tsh.domain.hr.models import Department, Employee, LeaveRequest
from tsh.domain.identity.models import Role, User
from tsh.domain.inventory import stock
from tsh.domain.inventory.models import StockLevel, StockMovement
from tsh.domain.organisation.models import Branch, Warehouse
from tsh.domain.sales.models import Invoice, Order, OrderLine, Payment, PaymentAllocation
from tsh.domain.sales.models.field import Commission
from tsh.domain.shared import BUSINESS_TZ, business_today
from tsh.platform.db.base import utcnow
from tsh.platform.db.uow import unit_of_work
from tsh.platform.errors import AppError

D = Decimal
T = TypeVar("T")
Cmd = Callable[[AsyncSession], Awaitable[T]]


@dataclass
class World:
    tag: str
    branch: int
    other_branch: int
    main_wh: int
    returns_wh: int
    product: int  # serialised, 12 months warranty
    plain: int
    customer: int
    address: int
    tech: int
    tech_other_branch: int
    part: int
    admin: int
    salesperson: int


def _slot(days: int = 7, hour: int = 9) -> dt.datetime:
    """A Monday-to-Thursday working slot at least `days` ahead (Baghdad local `hour`:00)."""
    day = business_today() + dt.timedelta(days=days)
    while day.isoweekday() in (5, 6, 7):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), BUSINESS_TZ)


async def _run(ctx: AppContext, cmd: Cmd[T]) -> tuple[T, set[str]]:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        result = await cmd(s)
        names = {e.name for e in s.info.get("tsh_events", [])}
    return result, names


async def _rejected(ctx: AppContext, w: World, cmd: Cmd[Any], status: int, code: str) -> AppError:
    before = await _snapshot(ctx, w)
    with pytest.raises(AppError) as err:
        async with unit_of_work(ctx.db, ctx.bus) as s:
            await cmd(s)
    assert (err.value.status, err.value.code) == (status, code), err.value.message
    assert await _snapshot(ctx, w) == before
    return err.value


async def _snapshot(ctx: AppContext, w: World) -> dict[str, Any]:
    async with ctx.db.session() as s:
        srs = select(ServiceRequest.id).where(ServiceRequest.customer_id == w.customer)
        rets = select(ReturnRequest.id).where(ReturnRequest.customer_id == w.customer)
        orders = select(Order.id).where(Order.customer_id == w.customer)

        async def rows(stmt: Any) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in (await s.execute(stmt)).all()]

        return {
            "sr": await rows(
                select(ServiceRequest.id, ServiceRequest.status, ServiceRequest.priority)
                .where(ServiceRequest.id.in_(srs))
                .order_by(ServiceRequest.id)
            ),
            "jobs": await rows(
                select(Job.id, Job.status, Job.technician_id, Job.start, Job.invoice_id)
                .where(Job.service_request_id.in_(srs))
                .order_by(Job.id)
            ),
            "part_stock": await rows(
                select(PartStock.branch_id, PartStock.on_hand, PartStock.reserved)
                .where(PartStock.part_id == w.part)
                .order_by(PartStock.branch_id)
            ),
            "part_requests": await rows(
                select(PartRequest.id, PartRequest.status).where(PartRequest.branch_id == w.branch)
            ),
            "warranties": await rows(
                select(Warranty.id, Warranty.status, Warranty.claims_count)
                .where(Warranty.product_id.in_([w.product, w.plain]))
                .order_by(Warranty.id)
            ),
            "returns": await rows(
                select(ReturnRequest.id, ReturnRequest.status, ReturnRequest.approved_amount)
                .where(ReturnRequest.id.in_(rets))
                .order_by(ReturnRequest.id)
            ),
            "return_lines": await rows(
                select(ReturnLine.id, ReturnLine.restock)
                .where(ReturnLine.return_id.in_(rets))
                .order_by(ReturnLine.id)
            ),
            "lines": await rows(
                select(OrderLine.id, OrderLine.qty_returned)
                .where(OrderLine.order_id.in_(orders))
                .order_by(OrderLine.id)
            ),
            "stock": await rows(
                select(StockLevel.warehouse_id, StockLevel.product_id, StockLevel.on_hand)
                .where(StockLevel.warehouse_id.in_([w.main_wh, w.returns_wh]))
                .order_by(StockLevel.id)
            ),
            "commissions": await rows(
                select(Commission.id, Commission.status, Commission.amount)
                .where(Commission.order_id.in_(orders))
                .order_by(Commission.id)
            ),
            "invoices": await s.scalar(select(func.count()).where(Invoice.customer_id == w.customer)),
            "refunds": await s.scalar(select(func.count()).where(Refund.customer_id == w.customer)),
            "entries": await s.scalar(select(func.count()).select_from(JournalEntry)),
        }


async def _invariants(ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        assert await posting.unbalanced_entries(s) == []
        assert await stock.stock_invariant_violations(s) == []
        bad = await s.scalar(
            select(func.count()).where((PartStock.reserved > PartStock.on_hand) | (PartStock.reserved < 0))
        )
        assert bad == 0


async def _world(ctx: AppContext, *, return_limit: Decimal = D(100000)) -> World:
    tag = uuid.uuid4().hex[:8]
    async with unit_of_work(ctx.db, ctx.bus) as s:
        admin = await s.scalar(
            select(User.id).join(Role, Role.id == User.role_id).where(Role.code == "admin")
        )
        sp = await s.scalar(
            select(User.id).join(Role, Role.id == User.role_id).where(Role.code == "salesperson")
        )
        dept = await s.scalar(select(Department.id).order_by(Department.id))
        assert admin and sp and dept
        b1 = Branch(
            code=f"A{tag}",
            name_ar="فرع",
            name_en="B1",
            city="Baghdad",
            address="x",
            return_value_limit=return_limit,
        )
        b2 = Branch(code=f"Z{tag}", name_ar="فرع", name_en="B2", city="Basra", address="y")
        cat = Category(name_ar="فئة", name_en=f"Cat {tag}")
        s.add_all([b1, b2, cat])
        await s.flush()
        main = Warehouse(branch_id=b1.id, code=f"M{tag}", name_ar="م", name_en="Main", type="main")
        ret_wh = Warehouse(branch_id=b1.id, code=f"R{tag}", name_ar="م", name_en="Returns", type="returns")
        prod = Product(
            sku=f"S-{tag}",
            name_ar="هاتف",
            name_en="Phone",
            category_id=cat.id,
            is_serialised=True,
            warranty_months=12,
        )
        plain = Product(sku=f"P-{tag}", name_ar="كابل", name_en="Cable", category_id=cat.id)
        cust = Customer(code=f"C{tag}", type="consumer", name="Ali", phone=f"+9647{int(tag, 16) % 10**9:09d}")
        part = Part(sku=f"PT-{tag}", name_ar="شاشة", name_en="Screen", unit_cost=D(20000), price=D(35000))
        s.add_all([main, ret_wh, prod, plain, cust, part])
        await s.flush()
        addr = Address(customer_id=cust.id, label="home", city="Baghdad", lat=33.3, lng=44.4)
        techs = []
        for i, br in enumerate((b1, b2)):
            emp = Employee(
                code=f"E{i}{tag}",
                name_ar="فني",
                name_en=f"Tech {i}",
                national_id=f"N{i}{tag}",
                phone="0770",
                department_id=dept,
                branch_id=br.id,
                job_title="Technician",
                hire_date=dt.date(2024, 1, 1),
                base_salary=D(900000),
                weekly_off_days=[5],
            )
            s.add(emp)
            await s.flush()
            techs.append(
                Technician(
                    employee_id=emp.id, branch_id=br.id, skills=["phone", "repair"], daily_capacity_min=240
                )
            )
        s.add_all([addr, *techs])
        await s.flush()
        await parts.receive_parts(s, branch_id=b1.id, lines=[(part.id, 3)])
        await parts.receive_parts(s, branch_id=b2.id, lines=[(part.id, 5)])
        return World(
            tag,
            b1.id,
            b2.id,
            main.id,
            ret_wh.id,
            prod.id,
            plain.id,
            cust.id,
            addr.id,
            techs[0].id,
            techs[1].id,
            part.id,
            admin,
            sp,
        )


async def _warranty(
    ctx: AppContext, w: World, serial: str, *, ends: dt.date | None = None, status: str = "active"
) -> int:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        today = business_today()
        row = Warranty(
            product_id=w.product,
            serial_number=serial,
            customer_id=w.customer,
            starts_on=today - dt.timedelta(days=400),
            ends_on=ends or today + dt.timedelta(days=200),
            status=status,
        )
        s.add(row)
        await s.flush()
        return row.id


def _open(w: World, serial: str | None = None, **kw: Any) -> Cmd[ServiceRequest]:
    values: dict[str, Any] = {"type": "repair", "priority": "high", "description": "No display"} | kw
    return lambda s: service_requests.create_service_request(
        s,
        branch_id=w.branch,
        customer_id=values.pop("customer_id", w.customer),
        product_id=w.product,
        serial_number=serial,
        created_by_id=w.admin,
        **values,
    )


def _schedule(w: World, request_id: int, start: dt.datetime, minutes: int = 60, **kw: Any) -> Cmd[Job]:
    args: dict[str, Any] = {"technician_id": w.tech, "kind": "on_site"} | kw
    return lambda s: jobs.schedule_job(s, request_id=request_id, start=start, duration_min=minutes, **args)


# -- service requests and claims ------------------------------------------------------------------


async def test_create_request_sla_warranty_link_and_codes(ctx: AppContext) -> None:
    w = await _world(ctx)
    serial = f"SN-{w.tag}-1"
    wid = await _warranty(ctx, w, serial)
    before = utcnow()
    req, events = await _run(ctx, _open(w, serial, priority="urgent"))
    assert events == {"ServiceRequestChanged"}
    assert (req.status, req.warranty_id, req.type) == ("new", wid, "repair")
    assert dt.timedelta(hours=23, minutes=59) < req.sla_due_at - before <= dt.timedelta(hours=24, seconds=5)
    low, _ = await _run(ctx, _open(w, None, priority="low"))
    assert low.sla_due_at - low.created_at == pytest.approx(dt.timedelta(days=7), abs=dt.timedelta(seconds=5))
    await _rejected(ctx, w, _open(w, serial), 409, "DUPLICATE_OPEN_REQUEST")
    await _rejected(ctx, w, _open(w, "X", type="warranty_repair"), 422, "VALIDATION_ERROR")
    await _rejected(ctx, w, _open(w, "Y", customer_id=10**9), 404, "CUSTOMER_NOT_FOUND")
    await _rejected(ctx, w, _open(w, "Z", priority="asap"), 422, "VALIDATION_ERROR")


async def test_warranty_claims(ctx: AppContext) -> None:
    w = await _world(ctx)
    good = await _warranty(ctx, w, f"SN-{w.tag}-ok")
    expired = await _warranty(ctx, w, f"SN-{w.tag}-old", ends=business_today() - dt.timedelta(days=1))
    void = await _warranty(ctx, w, f"SN-{w.tag}-void", status="void")

    def claim(wid: int) -> Cmd[ServiceRequest]:
        return lambda s: service_requests.open_warranty_claim(
            s,
            warranty_id=wid,
            branch_id=w.branch,
            description="Dead",
            priority="normal",
            created_by_id=w.admin,
        )

    await _rejected(ctx, w, claim(expired), 409, "WARRANTY_EXPIRED")
    await _rejected(ctx, w, claim(void), 409, "WARRANTY_VOID")
    await _rejected(ctx, w, claim(10**9), 404, "WARRANTY_NOT_FOUND")
    req, events = await _run(ctx, claim(good))
    assert events == {"ServiceRequestChanged", "WarrantyChanged"}
    assert (req.type, req.warranty_id, req.serial_number) == ("warranty_repair", good, f"SN-{w.tag}-ok")
    await _rejected(ctx, w, claim(good), 409, "CLAIM_OPEN")
    async with ctx.db.session() as s:
        assert (await s.get(Warranty, good)).claims_count == 1  # type: ignore[union-attr]
        found = await warranties.lookup_by_serial(s, serial_number=f"SN-{w.tag}-ok")
        assert [x.id for x in found] == [good]
    _, events = await _run(ctx, lambda s: warranties.void_warranty(s, warranty_id=expired, reason="fraud"))
    assert events == {"WarrantyChanged"}
    await _rejected(
        ctx,
        w,
        lambda s: warranties.void_warranty(s, warranty_id=expired, reason="again"),
        409,
        "WARRANTY_VOID",
    )


# -- scheduling -----------------------------------------------------------------------------------


async def test_schedule_rules(ctx: AppContext) -> None:
    w = await _world(ctx)
    req, _ = await _run(ctx, _open(w, f"SN-{w.tag}"))
    start = _slot()
    job, events = await _run(ctx, _schedule(w, req.id, start, 120))
    assert events == {"ServiceRequestChanged"}
    async with ctx.db.session() as s:
        assert (await s.get(ServiceRequest, req.id)).status == "scheduled"  # type: ignore[union-attr]
    # Overlap, outside hours, weekly day off, other branch, skill, capacity (240 min), leave.
    await _rejected(
        ctx, w, _schedule(w, req.id, start + dt.timedelta(minutes=60)), 409, "TECHNICIAN_UNAVAILABLE"
    )
    await _rejected(
        ctx, w, _schedule(w, req.id, start.replace(hour=15, minute=30)), 409, "TECHNICIAN_UNAVAILABLE"
    )
    friday = start + dt.timedelta(days=(5 - start.isoweekday()) % 7)
    await _rejected(ctx, w, _schedule(w, req.id, friday), 409, "TECHNICIAN_UNAVAILABLE")
    await _rejected(
        ctx, w, _schedule(w, req.id, start, technician_id=w.tech_other_branch), 404, "TECHNICIAN_NOT_FOUND"
    )
    inst, _ = await _run(ctx, _open(w, None, type="installation"))
    await _rejected(ctx, w, _schedule(w, inst.id, start + dt.timedelta(hours=3)), 422, "SKILL_MISMATCH")
    await _run(ctx, _schedule(w, req.id, start + dt.timedelta(hours=2), 120))
    err = await _rejected(
        ctx, w, _schedule(w, req.id, start + dt.timedelta(hours=4), 30), 409, "TECHNICIAN_UNAVAILABLE"
    )
    assert err.details and err.details[0]["issue"] == "daily capacity reached"
    async with unit_of_work(ctx.db, ctx.bus) as s:
        emp = await s.scalar(select(Technician.employee_id).where(Technician.id == w.tech))
        day = start.date() + dt.timedelta(days=1)
        s.add(
            LeaveRequest(
                employee_id=emp, type="annual", from_date=day, to_date=day, days=D(1), status="approved"
            )
        )
    await _rejected(ctx, w, _schedule(w, req.id, start + dt.timedelta(days=1)), 409, "TECHNICIAN_UNAVAILABLE")
    # Moving a job is checked the same way and technicians may not move jobs.
    await _rejected(
        ctx,
        w,
        lambda s: jobs.update_job(s, job_id=job.id, technician_id=w.tech, start=start),
        403,
        "FORBIDDEN",
    )
    await _rejected(
        ctx,
        w,
        lambda s: jobs.update_job(s, job_id=job.id, start=start + dt.timedelta(hours=2)),
        409,
        "TECHNICIAN_UNAVAILABLE",
    )
    await _run(
        ctx,
        lambda s: service_requests.update_service_request(
            s, request_id=req.id, by_user_id=w.admin, status="cancelled"
        ),
    )
    await _rejected(ctx, w, _schedule(w, req.id, _slot(9)), 409, "REQUEST_CLOSED")
    await _invariants(ctx)


# -- parts, job progress, completion --------------------------------------------------------------


def _reserve(w: World, job_id: int, qty: int) -> Cmd[PartRequest]:
    return lambda s: parts.reserve_parts(s, job_id=job_id, lines=[(w.part, qty)], requested_by_id=w.admin)


async def _stock_of(ctx: AppContext, w: World) -> tuple[int, int]:
    async with ctx.db.session() as s:
        row = (
            await s.execute(
                select(PartStock.on_hand, PartStock.reserved).where(
                    PartStock.part_id == w.part, PartStock.branch_id == w.branch
                )
            )
        ).one()
        return row[0], row[1]


async def test_parts_progress_and_out_of_warranty_completion(ctx: AppContext) -> None:
    w = await _world(ctx)
    req, _ = await _run(ctx, _open(w, f"SN-{w.tag}", address_id=None))
    job, _ = await _run(ctx, _schedule(w, req.id, _slot()))
    err = await _rejected(ctx, w, _reserve(w, job.id, 4), 409, "INSUFFICIENT_PARTS")
    assert err.details and err.details[0]["branches"] == [{"branch_id": w.other_branch, "available": 5}]
    _, events = await _run(ctx, _reserve(w, job.id, 2))
    assert events == {"PartsChanged", "ServiceRequestChanged"} and await _stock_of(ctx, w) == (3, 2)
    await _rejected(ctx, w, _reserve(w, job.id, 2), 409, "INSUFFICIENT_PARTS")
    # State machine: an on-site job goes en route first; on site needs geo.
    await _rejected(
        ctx,
        w,
        lambda s: jobs.update_job(s, job_id=job.id, status="on_site", geo=(33.3, 44.4, 5.0)),
        409,
        "INVALID_TRANSITION",
    )
    await _run(ctx, lambda s: jobs.update_job(s, job_id=job.id, technician_id=w.tech, status="en_route"))
    await _rejected(
        ctx, w, lambda s: jobs.update_job(s, job_id=job.id, status="on_site"), 422, "VALIDATION_ERROR"
    )
    await _run(ctx, lambda s: jobs.update_job(s, job_id=job.id, status="on_site", geo=(33.3, 44.4, 5.0)))
    async with ctx.db.session() as s:
        assert (await s.get(ServiceRequest, req.id)).status == "in_progress"  # type: ignore[union-attr]

    def complete(**kw: Any) -> Cmd[Job]:
        args: dict[str, Any] = {"outcome": "fixed", "resolution": "Screen replaced", "labour_min": 45} | kw
        return lambda s: jobs.complete_job(s, job_id=job.id, by_user_id=w.admin, **args)

    await _rejected(ctx, w, complete(parts_used=[(w.part, 3)]), 409, "PARTS_NOT_RESERVED")
    await _rejected(ctx, w, complete(charge=D("-1")), 422, "VALIDATION_ERROR")
    done, events = await _run(ctx, complete(parts_used=[(w.part, 1)], charge=D(75000)))
    assert events >= {
        "ServiceRequestChanged",
        "PartsChanged",
        "InvoiceIssued",
        "CreditChanged",
        "JournalPosted",
    }
    assert "WarrantyChanged" not in events
    assert await _stock_of(ctx, w) == (2, 0)  # one consumed, one released
    async with ctx.db.session() as s:
        inv = await s.scalar(select(Invoice).where(Invoice.job_id == job.id))
        assert inv is not None and (inv.total, inv.balance, inv.status, inv.order_id) == (
            D(75000),
            D(75000),
            "open",
            None,
        )
        assert done.invoice_id == inv.id
        keys = {
            (ln.debit, ln.credit, ln.customer_id)
            for ln in await s.scalars(select(JournalLine).where(JournalLine.entry_id == inv.journal_entry_id))
        }
        assert keys == {(D(75000), 0, w.customer), (0, D(75000), None)}
        assert (await s.get(ServiceRequest, req.id)).status == "completed"  # type: ignore[union-attr]
        pr = await s.scalar(select(PartRequest).where(PartRequest.job_id == job.id))
        assert pr is not None and pr.status == "consumed"
    await _rejected(ctx, w, complete(), 409, "INVALID_STATE")
    await _rejected(ctx, w, _reserve(w, job.id, 1), 409, "JOB_CLOSED")
    _, events = await _run(
        ctx,
        lambda s: service_requests.update_service_request(
            s, request_id=req.id, by_user_id=w.admin, status="closed"
        ),
    )
    await _invariants(ctx)


async def test_warranty_completion_replacement_and_no_charge(ctx: AppContext) -> None:
    w = await _world(ctx)
    old_serial = f"SN-{w.tag}-old"
    wid = await _warranty(ctx, w, old_serial)
    req, _ = await _run(
        ctx,
        lambda s: service_requests.open_warranty_claim(
            s,
            warranty_id=wid,
            branch_id=w.branch,
            description="Dead",
            priority="urgent",
            created_by_id=w.admin,
            address_id=w.address,
        ),
    )
    job, _ = await _run(ctx, _schedule(w, req.id, _slot(), kind="workshop"))
    await _run(ctx, lambda s: jobs.update_job(s, job_id=job.id, status="on_site", geo=(33.0, 44.0, 10.0)))
    async with ctx.db.session() as s:
        flagged = await s.get(Job, job.id)
        assert flagged is not None and flagged.on_site_flagged and (flagged.on_site_distance_m or 0) > 300

    def complete(**kw: Any) -> Cmd[Job]:
        args: dict[str, Any] = {"outcome": "replaced", "resolution": "Swapped", "labour_min": 20} | kw
        return lambda s: jobs.complete_job(s, job_id=job.id, by_user_id=w.admin, **args)

    await _rejected(
        ctx, w, complete(replacement_serial=f"SN-{w.tag}-new", charge=D(1000)), 422, "VALIDATION_ERROR"
    )
    await _rejected(ctx, w, complete(), 422, "VALIDATION_ERROR")
    _, events = await _run(ctx, complete(replacement_serial=f"SN-{w.tag}-new"))
    assert "WarrantyChanged" in events and "InvoiceIssued" not in events
    async with ctx.db.session() as s:
        old = await s.get(Warranty, wid)
        new = await s.scalar(select(Warranty).where(Warranty.replaces_id == wid))
        assert old is not None and old.status == "void"
        assert new is not None and (new.serial_number, new.ends_on, new.status) == (
            f"SN-{w.tag}-new",
            old.ends_on,
            "active",
        )
        assert await s.scalar(select(func.count()).where(Invoice.job_id == job.id)) == 0
    await _invariants(ctx)


async def test_close_cancel_transitions_release_parts(ctx: AppContext) -> None:
    w = await _world(ctx)

    def update(rid: int, status: str) -> Cmd[ServiceRequest]:
        return lambda s: service_requests.update_service_request(
            s, request_id=rid, by_user_id=w.admin, status=status
        )

    req, _ = await _run(ctx, _open(w, f"SN-{w.tag}-a"))
    await _rejected(ctx, w, update(req.id, "closed"), 409, "INVALID_TRANSITION")
    job, _ = await _run(ctx, _schedule(w, req.id, _slot()))
    await _run(ctx, _reserve(w, job.id, 2))
    cancelled, events = await _run(ctx, update(req.id, "cancelled"))
    assert cancelled.status == "cancelled" and events == {"ServiceRequestChanged", "PartsChanged"}
    assert await _stock_of(ctx, w) == (3, 0)
    await _rejected(ctx, w, update(req.id, "closed"), 409, "INVALID_TRANSITION")
    # Not fixable: closed directly; a request with a completed job cannot be cancelled.
    req2, _ = await _run(ctx, _open(w, f"SN-{w.tag}-b"))
    job2, _ = await _run(ctx, _schedule(w, req2.id, _slot(), kind="workshop"))
    await _run(ctx, _reserve(w, job2.id, 1))
    _, events = await _run(ctx, lambda s: jobs.update_job(s, job_id=job2.id, status="cancelled"))
    assert "PartsChanged" in events and await _stock_of(ctx, w) == (3, 0)
    await _rejected(
        ctx, w, lambda s: jobs.update_job(s, job_id=job2.id, status="en_route"), 409, "INVALID_TRANSITION"
    )
    job3, _ = await _run(ctx, _schedule(w, req2.id, _slot(), kind="workshop"))
    await _run(
        ctx,
        lambda s: jobs.complete_job(
            s,
            job_id=job3.id,
            by_user_id=w.admin,
            outcome="not_fixable",
            resolution="Board dead",
            labour_min=30,
        ),
    )
    await _rejected(ctx, w, update(req2.id, "cancelled"), 409, "INVALID_TRANSITION")
    closed, _ = await _run(ctx, update(req2.id, "closed"))
    assert closed.status == "closed" and closed.closed_at is not None
    await _invariants(ctx)


# -- returns and refunds ----------------------------------------------------------------------------


async def _delivered_order(
    ctx: AppContext, w: World, *, online: bool = False, serial: str | None = None
) -> tuple[int, list[int]]:
    """A delivered salesperson order of 2 cables (10,000 + 1,000 tax each) and 1 serialised phone
    (90,000): stock issued at cost, invoice, payable commissions, the phone's warranty."""
    async with unit_of_work(ctx.db, ctx.bus) as s:
        for pid, cost in ((w.plain, "4000"), (w.product, "60000")):
            await stock.receive(
                s,
                warehouse_id=w.main_wh,
                product_id=pid,
                qty=5,
                unit_cost=D(cost),
                movement_type="receipt",
                source_type="goods_receipt",
                source_id=None,
                by_id=None,
            )
        now = utcnow()
        order = Order(
            number=f"SO-{uuid.uuid4().hex[:12]}",
            channel="consumer" if online else "salesperson",
            customer_id=w.customer,
            branch_id=w.branch,
            warehouse_id=w.main_wh,
            salesperson_id=None if online else w.salesperson,
            status="delivered",
            payment_terms="online" if online else "cash",
            payment_method="zain_cash" if online else None,
            subtotal=D(110000),
            tax=D(2000),
            total=D(112000),
            placed_at=now,
            delivered_at=now,
            lines=[
                OrderLine(
                    product_id=w.plain,
                    sku="P",
                    product_name="Cable",
                    qty=2,
                    unit_price=D(10000),
                    tax=D(2000),
                    line_total=D(20000),
                    qty_delivered=2,
                ),
                OrderLine(
                    product_id=w.product,
                    sku="S",
                    product_name="Phone",
                    qty=1,
                    unit_price=D(90000),
                    line_total=D(90000),
                    qty_delivered=1,
                    serial_numbers=[serial] if serial else [],
                ),
            ],
        )
        s.add(order)
        await s.flush()
        for ln in order.lines:
            await stock.issue(
                s,
                warehouse_id=w.main_wh,
                product_id=ln.product_id,
                qty=ln.qty,
                movement_type="sale",
                source_type="order",
                source_id=order.id,
                by_id=None,
            )
        inv = Invoice(
            number=f"INV-{uuid.uuid4().hex[:12]}",
            customer_id=w.customer,
            branch_id=w.branch,
            order_id=order.id,
            issue_date=business_today(),
            due_date=business_today(),
            subtotal=D(110000),
            tax=D(2000),
            total=D(112000),
            paid=D(112000) if online else D(0),
            balance=D(0) if online else D(112000),
            status="paid" if online else "open",
        )
        s.add(inv)
        await s.flush()
        if online:
            pay = Payment(
                number=f"PAY-{uuid.uuid4().hex[:10]}",
                customer_id=w.customer,
                amount=D(112000),
                method="zain_cash",
                provider_reference=f"ZC-{uuid.uuid4().hex}",
                channel="consumer",
            )
            s.add(pay)
            await s.flush()
            s.add(PaymentAllocation(payment_id=pay.id, invoice_id=inv.id, amount=D(112000)))
        else:
            s.add(
                Commission(
                    salesperson_id=w.salesperson,
                    order_id=order.id,
                    base_amount=D(110000),
                    rate=D("2.25"),
                    amount=D(2475),
                    status="payable",
                    payable_at=now,
                )
            )
        if serial:
            s.add(
                Warranty(
                    product_id=w.product,
                    serial_number=serial,
                    customer_id=w.customer,
                    order_line_id=order.lines[1].id,
                    starts_on=business_today(),
                    ends_on=business_today() + dt.timedelta(days=365),
                )
            )
        return order.id, [ln.id for ln in order.lines]


async def _return(
    ctx: AppContext, w: World, order_id: int, items: list[tuple[int, int, str]], value: str
) -> int:
    async with unit_of_work(ctx.db, ctx.bus) as s:
        ret = ReturnRequest(
            number=f"RMA-{uuid.uuid4().hex[:10]}",
            order_id=order_id,
            customer_id=w.customer,
            branch_id=w.branch,
            channel="desk",
            currency="IQD",
            value=D(value),
            lines=[
                ReturnLine(order_line_id=lid, qty=q, reason="defective", condition=c) for lid, q, c in items
            ],
        )
        s.add(ret)
        await s.flush()
        return ret.id


def _decide(w: World, rid: int, role: str = "service_agent", **kw: Any) -> Cmd[ReturnRequest]:
    args: dict[str, Any] = {"decision": "approved", "note": "Inspected"} | kw
    return lambda s: returns.decide_return(s, return_id=rid, by_user_id=w.admin, role=role, **args)


def _refund(w: World, rid: int, method: str, amount: str) -> Cmd[Refund]:
    return lambda s: returns.refund_return(
        s, return_id=rid, method=method, amount=D(amount), by_user_id=w.admin
    )


async def test_return_decision_refund_commission_and_warranty(ctx: AppContext) -> None:
    w = await _world(ctx, return_limit=D(100000))
    serial = f"SN-{w.tag}-sold"
    order_id, (cable, phone) = await _delivered_order(ctx, w, serial=serial)
    # 1 cable (10,000 + 1,000 tax), sealed, and the phone (90,000), damaged: value 101,000.
    rid = await _return(ctx, w, order_id, [(cable, 1, "sealed"), (phone, 1, "damaged")], "101000")
    await _rejected(ctx, w, _refund(w, rid, "credit_note", "1000"), 409, "RETURN_NOT_APPROVED")
    await _rejected(ctx, w, _decide(w, rid, restocking_fee=D(15151)), 422, "FEE_TOO_HIGH")
    await _rejected(ctx, w, _decide(w, rid, restock=[(phone, True)]), 422, "VALIDATION_ERROR")
    await _rejected(ctx, w, _decide(w, rid), 403, "APPROVAL_REQUIRED")
    ret, events = await _run(ctx, _decide(w, rid, role="branch_manager", restocking_fee=D(1000)))
    assert events == {"ReturnChanged", "StockChanged"}
    assert (ret.status, ret.approved_amount, ret.restocking_fee) == ("approved", D(100000), D(1000))
    await _rejected(ctx, w, _decide(w, rid, role="branch_manager"), 409, "INVALID_STATE")
    async with ctx.db.session() as s:
        back = (
            await s.execute(
                select(
                    StockMovement.warehouse_id,
                    StockMovement.product_id,
                    StockMovement.qty,
                    StockMovement.unit_cost,
                    StockMovement.type,
                ).where(StockMovement.source_type == "return_request", StockMovement.source_id == rid)
            )
        ).all()
        assert [tuple(r) for r in back] == [(w.returns_wh, w.plain, 1, D(4000), "return")]
        returned = await s.scalars(
            select(OrderLine.qty_returned).where(OrderLine.order_id == order_id).order_by(OrderLine.id)
        )
        assert list(returned) == [1, 1]
    await _rejected(ctx, w, _refund(w, rid, "cash", "1000"), 422, "METHOD_NOT_ALLOWED")
    await _rejected(ctx, w, _refund(w, rid, "original", "1000"), 422, "METHOD_NOT_ALLOWED")
    await _rejected(ctx, w, _refund(w, rid, "credit_note", "100001"), 409, "REFUND_EXCEEDS_APPROVED")
    refund, events = await _run(ctx, _refund(w, rid, "credit_note", "100000"))
    assert events >= {
        "RefundIssued",
        "ReturnChanged",
        "CreditChanged",
        "CommissionChanged",
        "JournalPosted",
        "WarrantyChanged",
    }
    assert (refund.method, refund.unallocated, refund.source, refund.source_id) == (
        "credit_note",
        D(100000),
        "return",
        rid,
    )
    await _rejected(ctx, w, _refund(w, rid, "credit_note", "1"), 409, "ALREADY_REFUNDED")
    async with ctx.db.session() as s:
        comms = (
            await s.execute(
                select(Commission.status, Commission.base_amount, Commission.amount)
                .where(Commission.order_id == order_id)
                .order_by(Commission.id)
            )
        ).all()
        # Kept: 1 cable of 10,000 → base 10,000, 2.25 % = 225.
        assert [tuple(c) for c in comms] == [("reversed", D(110000), D(2475)), ("payable", D(10000), D(225))]
        war = await s.scalar(select(Warranty).where(Warranty.serial_number == serial))
        assert war is not None and war.status == "void"
        credit = await s.scalar(
            select(func.sum(JournalLine.credit)).where(
                JournalLine.entry_id == refund.journal_entry_id, JournalLine.customer_id == w.customer
            )
        )
        assert credit == D(100000)
        restocked_cost = await s.scalar(
            select(func.count()).where(
                JournalEntry.source_type == "refund", JournalEntry.source_id == refund.id
            )
        )
        assert restocked_cost == 2  # refund entry and the restocked cost entry
    await _invariants(ctx)


async def test_reject_and_original_refund_of_wallet_order(ctx: AppContext) -> None:
    w = await _world(ctx, return_limit=D(1000000))
    order_id, (cable, _) = await _delivered_order(ctx, w, online=True)
    rid = await _return(ctx, w, order_id, [(cable, 2, "opened")], "22000")
    rejected, events = await _run(ctx, _decide(w, rid, decision="rejected"))
    assert rejected.status == "rejected" and events == {"ReturnChanged"}
    await _rejected(ctx, w, _refund(w, rid, "original", "22000"), 409, "RETURN_NOT_APPROVED")
    rid2 = await _return(ctx, w, order_id, [(cable, 2, "opened")], "22000")
    ret, _ = await _run(ctx, _decide(w, rid2, restock=[(cable, False)]))
    assert ret.approved_amount == D(22000)
    refund, events = await _run(ctx, _refund(w, rid2, "original", "22000"))
    assert "CommissionChanged" not in events and "WarrantyChanged" not in events
    assert refund.method == "original" and refund.unallocated == 0 and refund.reference
    async with ctx.db.session() as s:
        lines = {
            (ln.debit, ln.credit)
            for ln in await s.scalars(
                select(JournalLine).where(JournalLine.entry_id == refund.journal_entry_id)
            )
        }
        # 22,000 = 20,000 revenue + 2,000 tax, back through the wallet clearing account.
        assert lines == {(D(20000), 0), (D(2000), 0), (0, D(22000))}
        assert (
            await s.scalar(
                select(func.count()).where(
                    StockMovement.source_type == "return_request", StockMovement.source_id == rid2
                )
            )
            == 0
        )
    await _invariants(ctx)
