"""POS-07 cash drawer and POS-08 pay-in / pay-out / drop."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from tests.bff.pos.conftest import BM1, BM2, CASHIER1, CASHIER2, Pos, amount, iqd, usd
from tsh.domain.accounting.models import JournalEntry
from tsh.domain.pos.models import CashMovement


async def test_movements_change_the_drawer_and_post(pos: Pos) -> None:
    async with pos.shift(CASHIER1, float_iqd=200_000, float_usd=50) as shift:
        sid = shift["id"]
        for body in (
            {"type": "pay_in", "amount": iqd(30_000), "reason": "change from safe"},
            {"type": "pay_out", "amount": iqd(10_000), "reason": "courier"},
            {"type": "drop", "amount": usd(20), "reason": "safe drop"},
        ):
            r = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", body)
            assert r.status_code == 201, r.text
            moved = r.json()["data"]["movement"]
            async with pos.db() as s:
                row = await s.get(CashMovement, moved["id"])
                assert row is not None and row.journal_entry_id is not None
                assert await s.get(JournalEntry, row.journal_entry_id) is not None
        drawer = await pos.data(CASHIER1, "/cash-drawer")
        assert await pos.drawer(sid) == {"IQD": Decimal("220000.00"), "USD": Decimal("30.00")}
        assert drawer["currencies"]["IQD"]["expected"] == iqd(220_000)
        assert drawer["currencies"]["IQD"]["pay_ins"] == iqd(30_000)
        assert drawer["currencies"]["IQD"]["pay_outs"] == iqd(10_000)
        assert drawer["currencies"]["USD"]["drops"] == usd(20)
        assert drawer["currencies"]["USD"]["opening_float"] == usd(50)
        async with pos.db() as s:
            count = len(list(await s.scalars(select(CashMovement.id).where(CashMovement.shift_id == sid))))
        assert len(drawer["movements"]) == count
        assert drawer["movements"][0]["type"] == "drop"
    await pos.assert_ledger_sound()


async def test_drawer_never_goes_negative(pos: Pos) -> None:
    async with pos.shift(CASHIER1, float_iqd=10_000) as shift:
        before = await pos.snapshot()
        for body in (
            {"type": "pay_out", "amount": iqd(10_001), "reason": "too much"},
            {"type": "drop", "amount": usd(1), "reason": "no dollars"},
        ):
            r = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", body)
            assert r.status_code == 409 and r.json()["error_code"] == "DRAWER_NEGATIVE", r.text
        assert await pos.snapshot() == before
        assert await pos.drawer(shift["id"]) == {"IQD": Decimal("10000.00"), "USD": Decimal("0")}


async def test_cashier_payout_above_limit_needs_a_manager(pos: Pos) -> None:
    # The Baghdad pay-out limit is 500,000 IQD (seed); the drawer holds enough to reach that check.
    async with pos.shift(CASHIER1, float_iqd=2_000_000) as shift:
        before = await pos.snapshot()
        body = {"type": "pay_out", "amount": iqd(600_000), "reason": "supplier"}
        r = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", body)
        assert r.status_code == 403 and r.json()["error_code"] == "APPROVAL_REQUIRED"
        assert await pos.snapshot() == before
        # The branch manager may, on the cashier's shift.
        r = await pos.send(BM1, "POST", "/cash-drawer/movements", {**body, "shift_id": shift["id"]})
        assert r.status_code == 201, r.text
        assert await pos.drawer(shift["id"]) == {"IQD": Decimal("1400000.00"), "USD": Decimal("0")}
        # The manager reads the cashier's drawer by shift id; another branch's manager cannot.
        drawer = await pos.data(BM1, "/cash-drawer", shift_id=shift["id"])
        assert drawer["currencies"]["IQD"]["expected"] == iqd(1_400_000)
        r = await pos.get(BM2, "/cash-drawer", shift_id=shift["id"])
        assert r.status_code == 404
        r = await pos.send(BM2, "POST", "/cash-drawer/movements", {**body, "shift_id": shift["id"]})
        assert r.status_code == 404
        r = await pos.get(CASHIER2, "/cash-drawer", shift_id=shift["id"])
        assert r.status_code == 404


async def test_movement_idempotency_and_validation(pos: Pos) -> None:
    async with pos.shift(CASHIER1, float_iqd=50_000) as shift:
        body = {"type": "pay_in", "amount": iqd(1_000), "reason": "float top-up"}
        r = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", body, key=None)
        assert r.status_code == 400
        key = uuid.uuid4().hex
        first = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", body, key=key)
        assert first.status_code == 201
        after = await pos.snapshot()
        again = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", body, key=key)
        assert again.status_code == 201 and again.json()["data"] == first.json()["data"]
        other = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", {**body, "reason": "x"}, key=key)
        assert other.status_code == 422
        assert await pos.snapshot() == after
        for bad in (
            {**body, "type": "steal"},
            {**body, "amount": iqd(0)},
            {**body, "amount": iqd(-5)},
            {**body, "amount": {"amount": "1", "currency": "EUR"}},
            {**body, "amount": iqd(10**15)},
            {**body, "reason": "x" * 201},
            {**body, "reason": ""},
            {**body, "unknown": True},
        ):
            r = await pos.send(CASHIER1, "POST", "/cash-drawer/movements", bad)
            assert r.status_code == 422, (bad, r.text)
        assert await pos.snapshot() == after
        assert amount((await pos.data(CASHIER1, "/cash-drawer"))["currencies"]["IQD"]["expected"]) == Decimal(
            "51000"
        )
        assert shift["id"] == (await pos.data(CASHIER1, "/cash-drawer"))["shift"]["id"]


async def test_no_open_shift(pos: Pos) -> None:
    await pos._cleanup(CASHIER1, "BGD-POS-1")
    r = await pos.get(CASHIER1, "/cash-drawer")
    assert r.status_code == 404 and r.json()["error_code"] == "NO_OPEN_SHIFT"
    before = await pos.snapshot()
    r = await pos.send(
        CASHIER1, "POST", "/cash-drawer/movements", {"type": "pay_in", "amount": iqd(5), "reason": "x"}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "NO_OPEN_SHIFT"
    assert await pos.snapshot() == before
