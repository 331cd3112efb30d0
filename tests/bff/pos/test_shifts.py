"""POS-03 open, POS-04 current, POS-05 closure, POS-06 history."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.pos.conftest import ADMIN, BM1, CASHIER1, CASHIER2, Pos, amount, iqd, usd
from tsh.domain.accounting.models import JournalEntry
from tsh.domain.pos.models import Shift


async def test_open_shift_starts_the_drawer_at_the_float(pos: Pos) -> None:
    async with pos.shift(CASHIER1, float_iqd=250_000, float_usd=100) as shift:
        assert shift["status"] == "open"
        assert shift["cashier"]["id"] == await pos.user_id(CASHIER1)
        async with pos.db() as s:
            row = await s.get(Shift, shift["id"])
            assert row is not None and row.opening_float_iqd == Decimal("250000")
            assert row.opening_float_usd == Decimal("100")
        assert await pos.drawer(shift["id"]) == {"IQD": Decimal("250000.00"), "USD": Decimal("100.00")}
        current = await pos.data(CASHIER1, "/shifts/current")
        assert current["id"] == shift["id"]
        assert current["expected_cash"] == {"IQD": iqd(250_000), "USD": usd(100)}
        assert current["terminal"]["code"] == "BGD-POS-1"


async def test_second_shift_is_refused_and_changes_nothing(pos: Pos) -> None:
    async with pos.shift(CASHIER1) as shift:
        terminal = await pos.terminal("BGD-POS-1")
        other = await pos.terminal("BGD-POS-2")
        before = await pos.snapshot()
        # The cashier already has a shift (on any terminal) ...
        r = await pos.send(CASHIER1, "POST", "/shifts", {"terminal_id": other.id, "opening_float": [iqd(0)]})
        assert r.status_code == 409 and r.json()["error_code"] == "SHIFT_ALREADY_OPEN"
        # ... and the terminal already has one (for anyone else).
        await pos._cleanup(BM1, "BGD-POS-2")
        r = await pos.send(BM1, "POST", "/shifts", {"terminal_id": terminal.id, "opening_float": [iqd(0)]})
        assert r.status_code == 409 and r.json()["error_code"] == "SHIFT_ALREADY_OPEN"
        assert await pos.snapshot() == before
        assert shift["status"] == "open"


async def test_open_shift_validation(pos: Pos) -> None:
    terminal = await pos.terminal("BGD-POS-1")
    basra = await pos.terminal("BSR-POS-1")
    await pos._cleanup(CASHIER1, "BGD-POS-1")
    before = await pos.snapshot()
    bad_bodies = [
        {"terminal_id": terminal.id, "opening_float": [iqd(-1)]},
        {"terminal_id": terminal.id, "opening_float": [{"amount": "10.5", "currency": "IQD"}]},
        {"terminal_id": terminal.id, "opening_float": [{"amount": "10", "currency": "EUR"}]},
        {"terminal_id": terminal.id, "opening_float": [iqd(10**13)]},
        {"terminal_id": terminal.id, "opening_float": [iqd(1), iqd(2)]},
        {"terminal_id": terminal.id, "opening_float": []},
        {"terminal_id": terminal.id, "opening_float": [iqd(0)], "extra": 1},
        {"terminal_id": -3, "opening_float": [iqd(0)]},
    ]
    for body in bad_bodies:
        r = await pos.send(CASHIER1, "POST", "/shifts", body)
        assert r.status_code == 422, (body, r.text)
    # A terminal of another branch is a 404.
    r = await pos.send(CASHIER1, "POST", "/shifts", {"terminal_id": basra.id, "opening_float": [iqd(0)]})
    assert r.status_code == 404
    assert await pos.snapshot() == before


async def test_open_shift_idempotency(pos: Pos) -> None:
    terminal = await pos.terminal("BGD-POS-1")
    await pos._cleanup(CASHIER1, "BGD-POS-1")
    body = {"terminal_id": terminal.id, "opening_float": [iqd(1000)]}
    r = await pos.send(CASHIER1, "POST", "/shifts", body, key=None)
    assert r.status_code == 400 and r.json()["error_code"] == "IDEMPOTENCY_KEY_REQUIRED"
    key = uuid.uuid4().hex
    first = await pos.send(CASHIER1, "POST", "/shifts", body, key=key)
    assert first.status_code == 201, first.text
    try:
        before = await pos.snapshot()
        again = await pos.send(CASHIER1, "POST", "/shifts", body, key=key)
        assert again.status_code == 201 and again.json()["data"] == first.json()["data"]
        other = await pos.send(CASHIER1, "POST", "/shifts", {**body, "opening_float": [iqd(5)]}, key=key)
        assert other.status_code == 422 and other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
        assert await pos.snapshot() == before
    finally:
        await pos.close(CASHIER1, first.json()["data"]["id"])


async def test_current_shift_404_without_one(pos: Pos) -> None:
    await pos._cleanup(CASHIER1, "BGD-POS-1")
    r = await pos.get(CASHIER1, "/shifts/current")
    assert r.status_code == 404 and r.json()["error_code"] == "NO_OPEN_SHIFT"


async def test_closure_rules_then_close_with_variance(pos: Pos) -> None:
    shift = await pos.open(CASHIER1, float_iqd=100_000)
    sid = shift["id"]
    product = await pos.product()
    sale = await pos.sale(CASHIER1, [{"product_id": product["id"], "qty": 1}])
    before = await pos.snapshot()
    r = await pos.send(CASHIER1, "POST", f"/shifts/{sid}/closure", {"counted_cash": [iqd(100_000)]})
    assert r.status_code == 409 and r.json()["error_code"] == "OPEN_TRANSACTIONS"
    assert await pos.snapshot() == before
    r = await pos.send(CASHIER1, "DELETE", f"/transactions/{sale['id']}", params={"reason": "customer left"})
    assert r.status_code == 200, r.text
    # 20,000 short is above the 5,000 tolerance: a note is needed.
    before = await pos.snapshot()
    r = await pos.send(CASHIER1, "POST", f"/shifts/{sid}/closure", {"counted_cash": [iqd(80_000)]})
    assert r.status_code == 422 and r.json()["error_code"] == "NOTE_REQUIRED"
    assert await pos.snapshot() == before
    # Another cashier cannot close it (404), nor can another branch's manager.
    r = await pos.send(
        CASHIER2, "POST", f"/shifts/{sid}/closure", {"counted_cash": [iqd(80_000)], "note": "x"}
    )
    assert r.status_code == 404
    body = {"counted_cash": [iqd(80_000)], "note": "20k short, counted twice"}
    key = uuid.uuid4().hex
    r = await pos.send(CASHIER1, "POST", f"/shifts/{sid}/closure", body, key=key)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["status"] == "closed"
    assert data["expected_cash"]["IQD"] == iqd(100_000)
    assert data["variance"]["IQD"] == iqd(-20_000)
    async with pos.db() as s:
        row = await s.get(Shift, sid)
        assert row is not None and row.status == "closed" and row.variance_iqd == Decimal("-20000")
        assert row.journal_entry_id is not None
        entries = await s.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.source_type == "shift", JournalEntry.source_id == sid)
        )
        assert entries == 1
    after = await pos.snapshot()
    replay = await pos.send(CASHIER1, "POST", f"/shifts/{sid}/closure", body, key=key)
    assert replay.status_code == 200 and replay.json()["data"] == data
    assert await pos.snapshot() == after
    r = await pos.send(CASHIER1, "POST", f"/shifts/{sid}/closure", body)
    assert r.status_code == 409 and r.json()["error_code"] == "SHIFT_NOT_OPEN"
    await pos.assert_ledger_sound()


async def test_history_is_scoped_cached_and_invalidated(pos: Pos) -> None:
    uid1 = await pos.user_id(CASHIER1)
    first = await pos.data(CASHIER1, "/shifts", limit=100)
    assert all(item["cashier"]["id"] == uid1 for item in first["items"])
    again = await pos.get(CASHIER1, "/shifts", limit=100)
    assert again.json()["metadata"]["cached"] is True
    shift = await pos.open(CASHIER1, float_iqd=7_000)
    fresh = await pos.get(CASHIER1, "/shifts", limit=100)
    assert fresh.json()["metadata"]["cached"] is False
    assert fresh.json()["data"]["items"][0]["id"] == shift["id"]
    await pos.close(CASHIER1, shift["id"])
    closed = (await pos.get(CASHIER1, "/shifts", limit=100)).json()
    assert closed["metadata"]["cached"] is False
    item = closed["data"]["items"][0]
    async with pos.db() as s:
        row = await s.get(Shift, shift["id"])
        assert row is not None
    assert item["status"] == "closed" and amount(item["counted_cash"]["IQD"]) == row.counted_cash_iqd
    # The branch manager sees the branch; cashier2 (Basra) never sees Baghdad shifts.
    bm = await pos.data(BM1, "/shifts", limit=100, cashier_id=uid1)
    assert shift["id"] in [i["id"] for i in bm["items"]]
    other = await pos.data(CASHIER2, "/shifts", limit=100)
    assert all(i["cashier"]["id"] != uid1 for i in other["items"])
    r = await pos.get(CASHIER2, "/shifts", cashier_id=uid1)
    assert r.status_code == 404
    async with pos.db() as s:
        mine = await s.scalar(select(func.count()).select_from(Shift).where(Shift.cashier_id == uid1))
    listed = await pos.data(ADMIN, "/shifts", limit=100, cashier_id=uid1)
    assert len(listed["items"]) == min(mine or 0, 100)


async def test_history_paging_and_filters(pos: Pos) -> None:
    page1 = await pos.data(BM1, "/shifts", limit=1)
    if page1["next_cursor"]:
        page2 = await pos.data(BM1, "/shifts", limit=1, cursor=page1["next_cursor"])
        assert page2["items"][0]["id"] != page1["items"][0]["id"]
    r = await pos.get(BM1, "/shifts", cursor="forged")
    assert r.status_code == 422
    varied = await pos.data(BM1, "/shifts", limit=100, with_variance="true")
    assert all(
        i["variance"] and (amount(i["variance"]["IQD"]) or amount(i["variance"]["USD"]))
        for i in varied["items"]
    )
