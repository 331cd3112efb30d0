"""More service-backed legacy writes (core.md §2.2): exchange rates (ACC-30), credit-request
decisions, commission payouts, fiscal periods. A rejected command changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from tests.api.helpers import ADMIN, SP1, branch_manager, count, scalar, user
from tests.api.test_legacy_resources import Recorder
from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.accounting import posting
from tsh.domain.accounting.models import Account, ExchangeRate, FiscalPeriod, JournalEntry, JournalLine
from tsh.domain.actor import Actor
from tsh.domain.aftersales.models import Part, PartStock
from tsh.domain.customers.models import Customer, Partner
from tsh.domain.finance import tax
from tsh.domain.identity.models import Media
from tsh.domain.organisation.models import Branch
from tsh.domain.sales.models import Order
from tsh.domain.sales.models.field import Commission, CommissionPayout
from tsh.domain.wholesale.models import CreditRequest

ACC = "accountant1@demo.tsh.iq"


async def keyed(auth: Auth, email: str) -> dict[str, str]:
    return await auth.headers(email, **{"Idempotency-Key": uuid.uuid4().hex})


# -- exchange rates ----------------------------------------------------------------------------------


async def test_exchange_rate_create_follows_acc_30(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    # A moment far ahead, so the rate in force for the rest of the suite does not change.
    at = dt.datetime(2031, 3, 1, 9, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=uuid.uuid4().int % 10**6)
    current = Decimal(
        await scalar(
            ctx,
            select(ExchangeRate.rate)
            .where(ExchangeRate.effective_from <= at)
            .order_by(ExchangeRate.effective_from.desc())
            .limit(1),
        )
    )
    before = await count(ctx, ExchangeRate)
    body = {"rate": str(current * Decimal("1.2")), "effective_from": at.isoformat()}
    h = await auth.headers(ACC)
    assert_error(
        await client.post("/api/exchange-rates", json=body, headers=await auth.headers(SP1)), 403, "FORBIDDEN"
    )
    assert_error(
        await client.post("/api/exchange-rates", json={"rate": "-1"}, headers=h), 422, "VALIDATION_ERROR"
    )
    assert_error(
        await client.post("/api/exchange-rates", json={**body, "extra": 1}, headers=h),
        422,
        "VALIDATION_ERROR",
    )
    out = await client.post("/api/exchange-rates", json=body, headers=h)
    assert_error(out, 422, "RATE_OUT_OF_BAND")
    assert out.json()["details"][0]["field"] == "rate"
    closed = await scalar(
        ctx, select(FiscalPeriod).where(FiscalPeriod.status == "closed").order_by(FiscalPeriod.id).limit(1)
    )
    in_closed = dt.datetime.combine(closed.starts_on, dt.time(12), dt.UTC).isoformat()
    assert_error(
        await client.post(
            "/api/exchange-rates", json={"rate": str(current), "effective_from": in_closed}, headers=h
        ),
        409,
        "PERIOD_CLOSED",
    )
    assert await count(ctx, ExchangeRate) == before

    recorder = Recorder(ctx)
    made = await client.post("/api/exchange-rates", json={**body, "confirm": True}, headers=h)
    assert made.status_code == 201, made.text
    assert Decimal(made.json()["rate"]) == current * Decimal("1.2")
    assert made.json()["set_by_id"] == (await user(ctx, ACC)).id
    assert "PriceChanged" in recorder.names()
    assert await count(ctx, ExchangeRate) == before + 1
    # One rate in force at any moment: a second rate from the same moment is refused.
    assert_error(
        await client.post("/api/exchange-rates", json={**body, "confirm": True}, headers=h), 409, "DUPLICATE"
    )
    # Within 5 % of the rate in force at that moment no confirmation is needed.
    near = {
        "rate": str(current * Decimal("1.2") * Decimal("1.03")),
        "effective_from": (at + dt.timedelta(days=1)).isoformat(),
    }
    assert (await client.post("/api/exchange-rates", json=near, headers=h)).status_code == 201
    assert await count(ctx, ExchangeRate) == before + 2
    listed = await client.get("/api/exchange-rates?limit=1", headers=h)
    assert (
        listed.json()[0]["id"] == (await client.get("/api/exchange-rates?limit=1", headers=h)).json()[0]["id"]
    )


# -- credit requests -----------------------------------------------------------------------------------


async def _pending_request(ctx: AppContext, branch_id: int | None) -> tuple[int, int]:
    """A fresh pending request of a wholesale customer of `branch_id` without one open."""
    async with ctx.db.session() as s:
        pending = select(CreditRequest.customer_id).where(CreditRequest.status == "pending")
        customer = (
            await s.scalars(
                select(Customer)
                .where(
                    Customer.type == "wholesale", Customer.branch_id == branch_id, Customer.id.not_in(pending)
                )
                .order_by(Customer.id.desc())
                .limit(1)
            )
        ).one()
        step = Decimal("10000") if customer.currency == "USD" else Decimal("10000000")
        row = CreditRequest(
            customer_id=customer.id,
            requested_limit=customer.credit_limit + step,
            current_limit=customer.credit_limit,
            currency=customer.currency,
            reason="Test request",
            status="pending",
        )
        s.add(row)
        await s.commit()
        return row.id, customer.id


async def test_credit_request_decisions(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    manager = await user(ctx, "branch_manager1@demo.tsh.iq")
    rid, cid = await _pending_request(ctx, manager.branch_id)
    url = f"/api/credit-requests/{rid}"
    approve = {"status": "approved", "note": "Good payer"}
    assert_error(await client.patch(url, json=approve, headers=await auth.headers(SP1)), 403, "FORBIDDEN")
    assert_error(
        await client.patch(url, json={"status": "pending"}, headers=await auth.headers(ACC)),
        422,
        "VALIDATION_ERROR",
    )
    other = await branch_manager(ctx, manager.branch_id, same=False)
    assert_error(await client.patch(url, json=approve, headers=await auth.headers(other)), 404, "NOT_FOUND")
    assert_error(
        await client.patch("/api/credit-requests/999999999", json=approve, headers=await auth.headers(ACC)),
        404,
        "NOT_FOUND",
    )
    requested = await scalar(ctx, select(CreditRequest.requested_limit).where(CreditRequest.id == rid))
    assert await scalar(ctx, select(Customer.credit_limit).where(Customer.id == cid)) != requested

    recorder = Recorder(ctx)
    done = await client.patch(url, json=approve, headers=await auth.headers(manager.email))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved" and done.json()["decided_by_id"] == manager.id
    assert done.json()["customer"]["id"] == cid
    assert await scalar(ctx, select(Customer.credit_limit).where(Customer.id == cid)) == requested
    assert "CreditChanged" in recorder.names()
    assert_error(await client.patch(url, json=approve, headers=await auth.headers(ACC)), 409, "NOT_PENDING")

    # Rejection by the accountant leaves the limit alone.
    rid2, cid2 = await _pending_request(ctx, manager.branch_id)
    limit = await scalar(ctx, select(Customer.credit_limit).where(Customer.id == cid2))
    r = await client.patch(
        f"/api/credit-requests/{rid2}", json={"status": "rejected"}, headers=await auth.headers(ACC)
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert await scalar(ctx, select(Customer.credit_limit).where(Customer.id == cid2)) == limit


# -- commission payouts ----------------------------------------------------------------------------------


async def _payout_fixture(ctx: AppContext) -> tuple[int, int, list[int]]:
    """A requested 60,000 IQD payout of a partner with two old payable commissions (30k + 50k)."""
    async with ctx.db.session() as s:
        busy = select(CommissionPayout.partner_id).where(
            CommissionPayout.status.in_(("requested", "approved")), CommissionPayout.partner_id.is_not(None)
        )
        partner = (
            await s.scalars(select(Partner).where(Partner.id.not_in(busy)).order_by(Partner.id).limit(1))
        ).one()
        order_id = await s.scalar(select(func.min(Order.id)))
        old = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
        commissions = [
            Commission(
                partner_id=partner.id,
                kind="direct",
                order_id=order_id,
                base_amount=base,
                rate=Decimal("5"),
                amount=amount,
                currency="IQD",
                status="payable",
                payable_at=old + dt.timedelta(days=i),
            )
            for i, (base, amount) in enumerate(
                ((Decimal(600_000), Decimal(30_000)), (Decimal(1_000_000), Decimal(50_000)))
            )
        ]
        s.add_all(commissions)
        payout = CommissionPayout(
            partner_id=partner.id,
            amount=Decimal(60_000),
            currency="IQD",
            method="cash_at_branch",
            status="requested",
        )
        s.add(payout)
        await s.commit()
        return payout.id, partner.id, [c.id for c in commissions]


async def test_commission_payout_approve_and_pay(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    pid, partner_id, (c1, c2) = await _payout_fixture(ctx)
    url = f"/api/commission-payouts/{pid}"
    h = await keyed(auth, ACC)
    assert_error(
        await client.patch(url, json={"status": "paid"}, headers=await auth.headers(ACC)),
        400,
        "IDEMPOTENCY_KEY_REQUIRED",
    )
    assert_error(
        await client.patch(
            url, json={"status": "approved"}, headers=await keyed(auth, "branch_manager1@demo.tsh.iq")
        ),
        403,
        "FORBIDDEN",
    )
    assert_error(await client.patch(url, json={"status": "requested"}, headers=h), 422, "VALIDATION_ERROR")
    entries = await count(ctx, JournalEntry)
    # Paying needs an approval first.
    assert_error(
        await client.patch(url, json={"status": "paid"}, headers=await keyed(auth, ACC)),
        409,
        "INVALID_TRANSITION",
    )

    recorder = Recorder(ctx)
    approved = await client.patch(url, json={"status": "approved"}, headers=await keyed(auth, ACC))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert recorder.names() == {"CommissionChanged"}
    assert await count(ctx, JournalEntry) == entries

    recorder = Recorder(ctx)
    hp = await keyed(auth, ACC)
    paid = await client.patch(url, json={"status": "paid", "note": "Cash at branch"}, headers=hp)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["journal_entry_id"]
    assert {"CommissionChanged", "JournalPosted"} <= recorder.names()
    replay = await client.patch(url, json={"status": "paid", "note": "Cash at branch"}, headers=hp)
    assert replay.content == paid.content and replay.headers["idempotent-replayed"] == "true"
    entry_id = paid.json()["journal_entry_id"]
    async with ctx.db.session() as s:
        lines = (
            await s.execute(
                select(Account.system_key, JournalLine.debit, JournalLine.credit)
                .join(Account, Account.id == JournalLine.account_id)
                .where(JournalLine.entry_id == entry_id)
                .order_by(JournalLine.id)
            )
        ).all()
        assert [(k, d, c) for k, d, c in lines] == [
            ("commission_payable", Decimal(60_000), Decimal(0)),
            ("cash_iqd", Decimal(0), Decimal(60_000)),
        ]
        first, second = (await s.get(Commission, c1)), (await s.get(Commission, c2))
        assert first is not None and second is not None
        assert (first.status, first.payout_id, first.amount) == ("paid", pid, Decimal(30_000))
        # The second is split: 30,000 paid on the row, 20,000 still payable on a new one.
        assert (second.status, second.amount) == ("paid", Decimal(30_000))
        rest = (
            await s.scalars(
                select(Commission).where(
                    Commission.order_id == second.order_id,
                    Commission.partner_id == partner_id,
                    Commission.status == "payable",
                    Commission.payable_at == second.payable_at,
                )
            )
        ).one()
        assert rest.amount == Decimal(20_000) and rest.base_amount + second.base_amount == Decimal(1_000_000)
    assert_error(
        await client.patch(url, json={"status": "rejected"}, headers=await keyed(auth, ACC)),
        409,
        "INVALID_TRANSITION",
    )


async def test_commission_payout_rejected_and_short_balance(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    pid, _, (c1, c2) = await _payout_fixture(ctx)
    url = f"/api/commission-payouts/{pid}"
    async with ctx.db.session() as s:
        # The balance drops below the amount (e.g. a return reversed a commission) after approval.
        for cid in (c1, c2):
            row = await s.get(Commission, cid)
            assert row is not None
            row.status = "reversed"
        await s.commit()
    assert (
        await client.patch(url, json={"status": "approved"}, headers=await keyed(auth, ACC))
    ).status_code == 200
    entries = await count(ctx, JournalEntry)
    short = await client.patch(url, json={"status": "paid"}, headers=await keyed(auth, ACC))
    if short.status_code == 200:  # the partner's other payable commissions still cover it
        assert short.json()["status"] == "paid"
        return
    assert_error(short, 409, "INSUFFICIENT_BALANCE")
    assert await count(ctx, JournalEntry) == entries
    assert await scalar(ctx, select(CommissionPayout.status).where(CommissionPayout.id == pid)) == "approved"
    rejected = await client.patch(
        url, json={"status": "rejected", "note": "No balance"}, headers=await keyed(auth, ACC)
    )
    assert rejected.status_code == 200 and rejected.json()["decision_note"] == "No balance"


# -- fiscal periods --------------------------------------------------------------------------------------


async def test_fiscal_period_close_and_reopen(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
    async with ctx.db.session() as s:
        periods = list(await s.scalars(select(FiscalPeriod).order_by(FiscalPeriod.year, FiscalPeriod.month)))
    opened = [p for p in periods if p.status == "open"]
    closed = [p for p in periods if p.status == "closed"]
    assert len(opened) >= 2 and len(closed) >= 2
    h = await auth.headers(ACC)
    url = f"/api/fiscal-periods/{opened[-1].id}"
    assert_error(
        await client.patch(url, json={"status": "closed"}, headers=await auth.headers(SP1)), 403, "FORBIDDEN"
    )
    assert_error(await client.patch(url, json={"status": "shut"}, headers=h), 422, "VALIDATION_ERROR")
    late = await client.patch(url, json={"status": "closed"}, headers=h)
    assert_error(late, 409, "PREVIOUS_PERIOD_OPEN")
    assert {d["id"] for d in late.json()["details"]} >= {opened[0].id}
    # Reopening is the admin's.
    last_closed = closed[-1]
    assert_error(
        await client.patch(f"/api/fiscal-periods/{last_closed.id}", json={"status": "open"}, headers=h),
        403,
        "FORBIDDEN",
    )
    admin = await auth.headers(ADMIN)
    assert_error(
        await client.patch(f"/api/fiscal-periods/{closed[-2].id}", json={"status": "open"}, headers=admin),
        409,
        "LATER_PERIOD_CLOSED",
    )
    assert await scalar(ctx, select(FiscalPeriod.status).where(FiscalPeriod.id == opened[-1].id)) == "open"
    if last_closed.month == 12:
        return  # reopening December reverses the closing entry; not done to the shared demo books
    recorder = Recorder(ctx)
    reopened = await client.patch(
        f"/api/fiscal-periods/{last_closed.id}", json={"status": "open"}, headers=admin
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["status"] == "open" and reopened.json()["closed_at"] is None
    assert "LedgerSetupChanged" in recorder.names()
    assert_error(
        await client.patch(f"/api/fiscal-periods/{last_closed.id}", json={"status": "open"}, headers=admin),
        409,
        "INVALID_TRANSITION",
    )
    again = await client.patch(
        f"/api/fiscal-periods/{last_closed.id}", json={"status": "closed", "note": "Re-closed"}, headers=h
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "closed" and again.json()["closed_by_id"] == (await user(ctx, ACC)).id


async def test_closing_december_posts_the_year_end_entry(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    """A December before the demo history: closing it moves the year's result to retained earnings."""
    accountant = (await user(ctx, ACC)).id
    async with ctx.db.session() as s:
        existing = await s.scalar(
            select(FiscalPeriod).where(FiscalPeriod.year == 2019, FiscalPeriod.month == 12)
        )
        assert existing is None
        period = FiscalPeriod(
            year=2019, month=12, starts_on=dt.date(2019, 12, 1), ends_on=dt.date(2019, 12, 31), status="open"
        )
        s.add(period)
        await s.flush()
        revenue = await s.scalar(
            select(Account.id)
            .where(
                Account.type == "revenue",
                Account.is_postable.is_(True),
                Account.currency.is_(None),
                Account.is_active.is_(True),
            )
            .limit(1)
        )
        assert revenue is not None
        sale = [posting.Line("cash_iqd", debit=Decimal(1000)), posting.Line(revenue, credit=Decimal(1000))]
        await posting.post_entry(
            s,
            journal="GEN",
            entry_date=dt.date(2019, 12, 15),
            currency="IQD",
            lines=sale,
            memo="Test sale 2019",
            source_type="manual",
            source_id=None,
            branch_id=None,
            posted_by_id=None,
        )
        # The closing checklist wants the quarter's tax return filed (ACC-26's service).
        await tax.file_return(
            s, Actor.system(accountant), date_from=dt.date(2019, 10, 1),
            date_to=dt.date(2019, 12, 31), reference="Q4-2019",
        )  # fmt: skip
        await s.commit()
        pid = period.id
    recorder = Recorder(ctx)
    done = await client.patch(
        f"/api/fiscal-periods/{pid}", json={"status": "closed"}, headers=await auth.headers(ACC)
    )
    assert done.status_code == 200, done.text
    entry_id = done.json()["closing_entry_id"]
    assert entry_id and {"LedgerSetupChanged", "JournalPosted"} <= recorder.names()
    async with ctx.db.session() as s:
        lines = (
            await s.execute(
                select(Account.system_key, Account.id, JournalLine.debit, JournalLine.credit)
                .join(Account, Account.id == JournalLine.account_id)
                .where(JournalLine.entry_id == entry_id)
            )
        ).all()
    by_key = {key: (d, c) for key, _, d, c in lines}
    by_account = {acc: (d, c) for _, acc, d, c in lines}
    assert by_account[revenue] == (Decimal(1000), Decimal(0))
    assert by_key["retained_earnings"] == (Decimal(0), Decimal(1000))
    # Nothing can be dated in it now.
    assert_error(
        await client.post(
            "/api/exchange-rates",
            json={"rate": "1310", "effective_from": "2019-12-20T09:00:00Z", "confirm": True},
            headers=await auth.headers(ACC),
        ),
        409,
        "PERIOD_CLOSED",
    )


# -- spare-parts receipts --------------------------------------------------------------------------------


async def test_part_receipt_raises_branch_stock(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    inv = "inventory_manager1@demo.tsh.iq"
    async with ctx.db.session() as s:
        part_id = await s.scalar(select(Part.id).where(Part.is_active.is_(True)).order_by(Part.id).limit(1))
        branch_id = await s.scalar(
            select(Branch.id).where(Branch.status == "active").order_by(Branch.id).limit(1)
        )
    assert part_id and branch_id
    url = f"/api/parts/{part_id}/receipts"
    stock = select(PartStock.on_hand).where(PartStock.part_id == part_id, PartStock.branch_id == branch_id)
    before = await scalar(ctx, stock) or 0
    body = {"branch_id": branch_id, "qty": 7}
    assert_error(await client.post(url, json=body, headers=await auth.headers(SP1)), 403, "FORBIDDEN")
    h = await auth.headers(inv)
    assert_error(await client.post(url, json={"branch_id": branch_id}, headers=h), 422, "VALIDATION_ERROR")
    assert_error(await client.post(url, json={**body, "qty": 0}, headers=h), 422, "VALIDATION_ERROR")
    assert_error(
        await client.post(url, json={**body, "branch_id": 999999999}, headers=h), 422, "REFERENCE_NOT_FOUND"
    )
    assert_error(await client.post("/api/parts/999999999/receipts", json=body, headers=h), 404, "NOT_FOUND")
    assert (await scalar(ctx, stock) or 0) == before

    recorder = Recorder(ctx)
    hk = await keyed(auth, inv)
    done = await client.post(url, json=body, headers=hk)
    assert done.status_code == 201, done.text
    assert done.json()["on_hand"] == before + 7 and done.json()["branch_id"] == branch_id
    assert "PartsChanged" in recorder.names()
    replay = await client.post(url, json=body, headers=hk)
    assert replay.content == done.content and replay.headers["idempotent-replayed"] == "true"
    assert await scalar(ctx, stock) == before + 7


# -- media -----------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def _stored(root: Path) -> dict[str, bytes]:
    """The files under the media directory, by name."""
    return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_media_upload_and_own_download(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ctx.settings, "media_dir", str(tmp_path))
    assert_error(
        await client.post("/api/media", files={"file": ("a.png", PNG, "image/png")}), 401, "AUTH_REQUIRED"
    )
    h = await auth.headers(SP1)
    before = await count(ctx, Media)
    # The declared type is not trusted: an HTML file called .png is refused.
    fake = await client.post(
        "/api/media", files={"file": ("x.png", b"<html>hi</html>", "image/png")}, headers=h
    )
    assert_error(fake, 422, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(await client.post("/api/media", data={"x": "1"}, headers=h), 422, "VALIDATION_ERROR")
    assert_error(
        await client.post("/api/media", files={"file": ("e.png", b"", "image/png")}, headers=h),
        422,
        "VALIDATION_ERROR",
    )
    big = await client.post(
        "/api/media", files={"file": ("b.pdf", PDF + b"0" * (1024 * 1024), "application/pdf")}, headers=h
    )
    assert big.status_code == 413, big.text
    assert await count(ctx, Media) == before and not _stored(tmp_path)

    # A PDF declared as an image is stored as what it is.
    up = await client.post("/api/media", files={"file": ("scan.jpg", PDF, "image/jpeg")}, headers=h)
    assert up.status_code == 201, up.text
    media_id, url = up.json()["id"], up.json()["url"]
    assert url == f"/api/media/{media_id}" and set(up.json()) == {"id", "url"}
    async with ctx.db.session() as s:
        row = await s.get(Media, media_id)
        assert row is not None
        assert (row.content_type, row.size, row.uploaded_by_id) == (
            "application/pdf",
            len(PDF),
            (await user(ctx, SP1)).id,
        )
        assert "scan" not in row.storage_key
        assert _stored(tmp_path) == {row.storage_key: PDF}

    got = await client.get(url, headers=h)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"].startswith("application/pdf")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert_error(await client.get(url, headers=await auth.headers(ACC)), 404, "NOT_FOUND")
    assert_error(await client.get("/api/media/999999999", headers=h), 404, "NOT_FOUND")
    png = await client.post("/api/media", files={"file": ("p", PNG, "application/octet-stream")}, headers=h)
    assert png.status_code == 201
    assert (await client.get(png.json()["url"], headers=h)).headers["content-type"] == "image/png"


async def test_fiscal_period_close_keeps_the_closing_checklist(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    """The legacy close runs ACC-28's service: the earliest open month is refused with the same
    blocking items ACC-27 lists (on the seeded data its last days' statement lines, open shifts
    or payroll; a month with none is not closed here, it would change the shared books)."""
    from tsh.domain.finance.closing import fiscal_periods

    async with ctx.db.session() as s:
        first_open = await s.scalar(
            select(FiscalPeriod)
            .where(FiscalPeriod.status == "open")
            .order_by(FiscalPeriod.year, FiscalPeriod.month)
            .limit(1)
        )
        assert first_open is not None
        listed = await fiscal_periods(s, year=first_open.year)
    first = next(p for p in listed if p["id"] == first_open.id)
    blocking = {i["code"] for i in first["checklist"] if i["blocking"]}
    if not blocking:
        pytest.skip("the earliest open month has nothing blocking on this day's seed")
    r = await client.patch(
        f"/api/fiscal-periods/{first_open.id}", json={"status": "closed"}, headers=await auth.headers(ACC)
    )
    assert_error(r, 409, "CHECKLIST_INCOMPLETE")
    assert {d["field"] for d in r.json()["details"]} == blocking
    assert await scalar(ctx, select(FiscalPeriod.status).where(FiscalPeriod.id == first_open.id)) == "open"
