"""Service-backed legacy writes (core.md §2.2): the database changes only when the service agrees."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx2 as httpx
from sqlalchemy import select

from tests.api.helpers import SP1, branch_manager, count, scalar, user
from tests.api.test_legacy_resources import Recorder
from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.accounting.models import Account, JournalEntry
from tsh.domain.identity.models import UserSession
from tsh.domain.inventory.models import GoodsReceipt, StockLevel, StockMovement, Supplier
from tsh.domain.organisation.models import Warehouse
from tsh.domain.sales.models import Invoice, Order, Payment

ACC = "accountant1@demo.tsh.iq"
INV = "inventory_manager1@demo.tsh.iq"
SEC = "security_officer1@demo.tsh.iq"
WH = "warehouse_staff1@demo.tsh.iq"


async def keyed(auth: Auth, email: str) -> dict[str, str]:
    return await auth.headers(email, **{"Idempotency-Key": uuid.uuid4().hex})


async def test_order_status_goes_through_the_order_services(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    staff = await user(ctx, WH)
    confirmed = (Order.status == "confirmed", Order.branch_id == staff.branch_id)
    oid = await scalar(ctx, select(Order.id).where(*confirmed).order_by(Order.id).limit(1))
    url = f"/api/orders/{oid}"
    assert_error(
        await client.patch(url, json={"status": "shipped"}, headers=await auth.headers(WH)),
        400,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    assert_error(
        await client.patch(url, json={"status": "delivered"}, headers=await keyed(auth, WH)), 403, "FORBIDDEN"
    )
    other = await branch_manager(ctx, staff.branch_id, same=False)
    assert_error(
        await client.patch(url, json={"status": "shipped"}, headers=await keyed(auth, other)),
        404,
        "NOT_FOUND",
    )
    assert_error(
        await client.patch(url, json={"status": "paid"}, headers=await keyed(auth, WH)),
        422,
        "VALIDATION_ERROR",
    )
    movements = await count(
        ctx, StockMovement, StockMovement.source_type == "order", StockMovement.source_id == oid
    )

    recorder = Recorder(ctx)
    h = await keyed(auth, WH)
    shipped = await client.patch(url, json={"status": "shipped"}, headers=h)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped" and shipped.json()["lines"]
    assert await scalar(ctx, select(Order.status).where(Order.id == oid)) == "shipped"
    after = await count(
        ctx, StockMovement, StockMovement.source_type == "order", StockMovement.source_id == oid
    )
    assert after == movements + len(shipped.json()["lines"])
    assert {"OrderChanged", "StockChanged"} <= recorder.names()
    replay = await client.patch(url, json={"status": "shipped"}, headers=h)
    assert replay.content == shipped.content and replay.headers["idempotent-replayed"] == "true"

    # A rejected transition changes nothing.
    again = await client.patch(url, json={"status": "shipped"}, headers=await keyed(auth, WH))
    assert_error(again, 409, "ORDER_NOT_CONFIRMED")
    assert (
        await count(ctx, StockMovement, StockMovement.source_id == oid, StockMovement.source_type == "order")
        == after
    )

    manager = await branch_manager(ctx, staff.branch_id, same=True)
    delivered = await client.patch(url, json={"status": "delivered"}, headers=await keyed(auth, manager))
    assert delivered.status_code == 200, delivered.text
    assert await scalar(ctx, select(Order.status).where(Order.id == oid)) == "delivered"
    late = await client.patch(url, json={"status": "cancelled"}, headers=await keyed(auth, manager))
    assert_error(late, 409, "ORDER_NOT_CANCELLABLE")


async def test_order_cancellation(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    sp1 = await user(ctx, SP1)
    manager = await branch_manager(ctx, sp1.branch_id, same=True)
    oid = await scalar(
        ctx,
        select(Order.id)
        .where(Order.status == "confirmed", Order.branch_id == sp1.branch_id)
        .order_by(Order.id.desc())
        .limit(1),
    )
    r = await client.patch(
        f"/api/orders/{oid}",
        json={"status": "cancelled", "reason": "Customer withdrew"},
        headers=await keyed(auth, manager),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["cancel_reason"] == "Customer withdrew"
    assert await scalar(ctx, select(Invoice.status).where(Invoice.order_id == oid)) in (None, "void")


async def _open_invoice(ctx: AppContext) -> tuple[int, int, Decimal]:
    async with ctx.db.session() as s:
        row = (
            await s.execute(
                select(Invoice.id, Invoice.customer_id, Invoice.balance)
                .where(
                    Invoice.status.in_(("open", "partial")),
                    Invoice.currency == "IQD",
                    Invoice.balance >= 5000,
                )
                .order_by(Invoice.id)
                .limit(1)
            )
        ).one()
        return row[0], row[1], Decimal(row[2])


async def test_payment_create_records_and_allocates(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    iid, cid, balance = await _open_invoice(ctx)
    body: dict[str, Any] = {
        "customer_id": cid,
        "amount": "5000",
        "currency": "IQD",
        "method": "cheque",
        "reference": "CHQ-1",
        "allocations": [{"invoice_id": iid, "amount": "5000"}],
    }
    assert_error(
        await client.post("/api/payments", json=body, headers=await auth.headers(ACC)),
        400,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    assert_error(
        await client.post("/api/payments", json=body, headers=await keyed(auth, SP1)), 403, "FORBIDDEN"
    )
    before = await count(ctx, Payment)
    over = {
        **body,
        "allocations": [{"invoice_id": iid, "amount": str(balance + 1000)}],
        "amount": str(balance + 1000),
    }
    assert_error(
        await client.post("/api/payments", json=over, headers=await keyed(auth, ACC)), 422, "OVER_ALLOCATION"
    )
    fils = {**body, "amount": "5000.5"}
    assert_error(
        await client.post("/api/payments", json=fils, headers=await keyed(auth, ACC)), 422, "INVALID_AMOUNT"
    )
    assert await count(ctx, Payment) == before
    recorder = Recorder(ctx)
    r = await client.post("/api/payments", json=body, headers=await keyed(auth, ACC))
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == "5000.00" and r.json()["allocations"][0]["invoice_id"] == iid
    assert await count(ctx, Payment) == before + 1
    assert await scalar(ctx, select(Invoice.balance).where(Invoice.id == iid)) == balance - 5000
    assert {"PaymentReceived", "CreditChanged", "JournalPosted"} <= recorder.names()


async def _two_accounts(ctx: AppContext) -> list[int]:
    async with ctx.db.session() as s:
        stmt = (
            select(Account.id)
            .where(Account.is_postable.is_(True), Account.is_active.is_(True), Account.currency.is_(None))
            .order_by(Account.code)
            .limit(2)
        )
        return list(await s.scalars(stmt))


async def test_journal_entry_create(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    debit_acc, credit_acc = await _two_accounts(ctx)
    from tsh.domain.shared import business_today

    body: dict[str, Any] = {
        "date": business_today().isoformat(),
        "memo": "Legacy API test entry",
        "currency": "IQD",
        "lines": [{"account_id": debit_acc, "debit": "1000"}, {"account_id": credit_acc, "credit": "1000"}],
    }
    before = await count(ctx, JournalEntry)
    bad = {
        **body,
        "lines": [{"account_id": debit_acc, "debit": "1000"}, {"account_id": credit_acc, "credit": "900"}],
    }
    assert_error(
        await client.post("/api/journal-entries", json=bad, headers=await keyed(auth, ACC)),
        422,
        "UNBALANCED_ENTRY",
    )
    assert_error(
        await client.post("/api/journal-entries", json=body, headers=await keyed(auth, INV)), 403, "FORBIDDEN"
    )
    assert await count(ctx, JournalEntry) == before
    r = await client.post("/api/journal-entries", json=body, headers=await keyed(auth, ACC))
    assert r.status_code == 201, r.text
    assert (
        r.json()["total"] == "1000.00" and len(r.json()["lines"]) == 2 and r.json()["source_type"] == "manual"
    )
    assert await count(ctx, JournalEntry) == before + 1


async def test_goods_receipt_raises_stock_and_posts(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    staff = await user(ctx, WH)
    wid = await scalar(
        ctx,
        select(Warehouse.id).where(Warehouse.branch_id == staff.branch_id).order_by(Warehouse.id).limit(1),
    )
    far = await scalar(ctx, select(Warehouse.id).where(Warehouse.branch_id != staff.branch_id).limit(1))
    sid = await scalar(
        ctx, select(Supplier.id).where(Supplier.currency == "IQD", Supplier.is_active.is_(True)).limit(1)
    )
    pid = await scalar(
        ctx,
        select(StockLevel.product_id)
        .where(StockLevel.warehouse_id == wid)
        .order_by(StockLevel.product_id)
        .limit(1),
    )
    level = (StockLevel.warehouse_id == wid, StockLevel.product_id == pid)
    on_hand = await scalar(ctx, select(StockLevel.on_hand).where(*level))
    body: dict[str, Any] = {
        "supplier_id": sid,
        "warehouse_id": wid,
        "lines": [{"product_id": pid, "qty": 7, "unit_cost": "1500"}],
    }
    receipts, entries = await count(ctx, GoodsReceipt), await count(ctx, JournalEntry)
    assert_error(
        await client.post("/api/goods-receipts", json=body, headers=await auth.headers(WH)),
        400,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    assert_error(
        await client.post("/api/goods-receipts", json=body, headers=await keyed(auth, SP1)), 403, "FORBIDDEN"
    )
    elsewhere = {**body, "warehouse_id": far}
    assert_error(
        await client.post("/api/goods-receipts", json=elsewhere, headers=await keyed(auth, WH)),
        404,
        "NOT_FOUND",
    )
    twice = {**body, "lines": body["lines"] * 2}
    assert_error(
        await client.post("/api/goods-receipts", json=twice, headers=await keyed(auth, WH)),
        422,
        "VALIDATION_ERROR",
    )
    assert (await count(ctx, GoodsReceipt), await count(ctx, JournalEntry)) == (receipts, entries)
    assert await scalar(ctx, select(StockLevel.on_hand).where(*level)) == on_hand

    recorder = Recorder(ctx)
    r = await client.post("/api/goods-receipts", json=body, headers=await keyed(auth, WH))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["total"] == "10500.00" and created["lines"][0]["qty"] == 7 and created["journal_entry_id"]
    assert await scalar(ctx, select(StockLevel.on_hand).where(*level)) == on_hand + 7
    assert await count(ctx, GoodsReceipt) == receipts + 1 and await count(ctx, JournalEntry) == entries + 1
    assert {"StockChanged", "JournalPosted"} <= recorder.names()


async def test_session_revocation(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    email = "employee2@demo.tsh.iq"
    victim = await auth.login(email, fresh=True)
    sid = await scalar(
        ctx,
        select(UserSession.id)
        .where(UserSession.user_id == victim["user"]["id"])
        .order_by(UserSession.id.desc())
        .limit(1),
    )
    assert_error(
        await client.delete(f"/api/sessions/{sid}", headers=await auth.headers(ACC)), 403, "FORBIDDEN"
    )
    recorder = Recorder(ctx)
    r = await client.delete(f"/api/sessions/{sid}", headers=await auth.headers(SEC))
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None and r.json()["user"]["id"] == victim["user"]["id"]
    assert "SessionChanged" in recorder.names()
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {victim['access_token']}"})
    assert_error(me, 401, "SESSION_REVOKED")
    await auth.login(email, fresh=True)
    assert_error(
        await client.delete("/api/sessions/999999999", headers=await auth.headers(SEC)), 404, "NOT_FOUND"
    )
