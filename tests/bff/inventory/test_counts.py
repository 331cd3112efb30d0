"""INV-14..INV-18: count sessions, blind count sheets, counted quantities, completion with and
without booking the variance, overlap and closed-count rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from tests.bff.inventory.conftest import BM1, BM2, IM, WS1, WS2, Inv
from tsh.domain.inventory.models import Adjustment, Count, CountLine


async def _start(inv: Inv, email: str, wid: int, pids: list[int], *, blind: bool = True) -> dict[str, Any]:
    body = {"warehouse_id": wid, "scope": "products", "product_ids": pids, "blind": blind}
    r = await inv.send(email, "POST", "/counts", body)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


async def test_blind_count_counted_and_applied(inv: Inv) -> None:
    wid = await inv.warehouse("BSR-MAIN")
    a, b, c = await inv.stocked(wid, 3, min_available=3)
    count = await _start(inv, BM2, wid, [a.product_id, b.product_id, c.product_id])
    assert count["status"] == "open" and count["progress"] == {"counted": 0, "total": 3}
    # Warehouse staff see no system quantities on a blind count; the manager does.
    staff = await inv.data(WS2, f"/counts/{count['id']}")
    assert staff["shows_system_qty"] is False
    assert all(ln["system_qty"] is None and ln["variance"] is None for ln in staff["lines"]["items"])
    manager = await inv.data(BM2, f"/counts/{count['id']}")
    assert {ln["product"]["id"]: ln["system_qty"] for ln in manager["lines"]["items"]} == {
        a.product_id: a.on_hand,
        b.product_id: b.on_hand,
        c.product_id: c.on_hand,
    }
    # Other branches see nothing.
    assert (await inv.get(WS1, f"/counts/{count['id']}")).status_code == 404
    r = await inv.send(
        WS1,
        "PUT",
        f"/counts/{count['id']}/lines",
        {"lines": [{"product_id": a.product_id, "counted_qty": 1}]},
    )
    assert r.status_code == 404 and r.json()["error_code"] == "COUNT_NOT_FOUND"

    lines = [
        {"product_id": a.product_id, "counted_qty": a.on_hand - 2},
        {"product_id": b.product_id, "counted_qty": b.on_hand + 1},
    ]
    r = await inv.send(WS2, "PUT", f"/counts/{count['id']}/lines", {"lines": lines})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["progress"] == {"counted": 2, "total": 3}
    # Setting again replaces the value, it does not add.
    r = await inv.send(WS2, "PUT", f"/counts/{count['id']}/lines", {"lines": lines[:1]})
    assert r.status_code == 200
    uncounted = await inv.data(WS2, f"/counts/{count['id']}", uncounted_only="true")
    assert [ln["product"]["id"] for ln in uncounted["lines"]["items"]] == [c.product_id]

    # A product outside a products-scoped count is refused; nothing changes.
    before = await inv.snapshot()
    others = [
        lv
        for lv in await inv.stocked(wid, 6)
        if lv.product_id not in (a.product_id, b.product_id, c.product_id)
    ]
    r = await inv.send(
        WS2,
        "PUT",
        f"/counts/{count['id']}/lines",
        {"lines": [{"product_id": others[0].product_id, "counted_qty": 1}]},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "PRODUCT_NOT_IN_COUNT"
    # An overlapping count of the same warehouse is refused.
    r = await inv.send(
        IM, "POST", "/counts", {"warehouse_id": wid, "scope": "products", "product_ids": [a.product_id]}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "COUNT_IN_PROGRESS"
    assert await inv.snapshot() == before

    r = await inv.send(BM2, "POST", f"/counts/{count['id']}/completion", {"apply": True})
    assert r.status_code == 200, r.text
    done = r.json()["data"]
    assert done["status"] == "completed" and done["adjustment_id"]
    assert (await inv.level(a.product_id, wid)).on_hand == a.on_hand - 2  # type: ignore[union-attr]
    assert (await inv.level(b.product_id, wid)).on_hand == b.on_hand + 1  # type: ignore[union-attr]
    assert (await inv.level(c.product_id, wid)).on_hand == c.on_hand  # type: ignore[union-attr]
    async with inv.api.db() as s:
        adj = await s.get(Adjustment, done["adjustment_id"])
        assert adj is not None and adj.source == "count" and adj.count_id == count["id"]
        expected = (-2 * a.avg_cost + b.avg_cost).quantize(Decimal("1"))
        assert abs(adj.value - expected) <= 1
        assert Decimal(done["variance_value"]["amount"]) == adj.value
        assert (adj.journal_entry_id is not None) == (adj.value != 0)
    # Completed: staff now see the variances; the count is closed to changes.
    sheet = await inv.data(WS2, f"/counts/{count['id']}")
    assert {ln["product"]["id"]: ln["variance"] for ln in sheet["lines"]["items"]} == {
        a.product_id: -2,
        b.product_id: 1,
        c.product_id: None,
    }
    before = await inv.snapshot()
    r = await inv.send(WS2, "PUT", f"/counts/{count['id']}/lines", {"lines": lines[:1]})
    assert r.status_code == 409 and r.json()["error_code"] == "COUNT_CLOSED"
    r = await inv.send(BM2, "POST", f"/counts/{count['id']}/completion", {"apply": True})
    assert r.status_code == 409 and r.json()["error_code"] == "COUNT_CLOSED"
    assert await inv.snapshot() == before
    await inv.assert_sound()


async def test_movements_during_the_count_are_not_variances(inv: Inv) -> None:
    wid, shop = await inv.warehouse("BGD-SHOP"), await inv.warehouse("BGD-MAIN")
    (a,) = await inv.stocked(wid, 1, min_available=4)
    count = await _start(inv, BM1, wid, [a.product_id], blind=False)
    # Stock keeps moving: 2 leave by transfer after the snapshot.
    t = await inv.transfer(WS1, wid, shop, [(a.product_id, 2)])
    assert (await inv.send(WS1, "POST", f"/transfers/{t['id']}/dispatch", {})).status_code == 200
    # The shelf holds what is left: no variance.
    r = await inv.send(
        WS1,
        "PUT",
        f"/counts/{count['id']}/lines",
        {"lines": [{"product_id": a.product_id, "counted_qty": a.on_hand - 2}]},
    )
    assert r.status_code == 200
    sheet = await inv.data(WS1, f"/counts/{count['id']}")
    assert sheet["shows_system_qty"] is True  # not blind
    assert sheet["lines"]["items"][0]["system_qty"] == a.on_hand - 2
    assert sheet["lines"]["items"][0]["variance"] == 0
    before = await inv.snapshot()
    r = await inv.send(BM1, "POST", f"/counts/{count['id']}/completion", {"apply": True})
    assert r.status_code == 200 and r.json()["data"]["adjustment_id"] is None
    after = await inv.snapshot()
    assert after["movements"] == before["movements"] and after["adjustments"] == before["adjustments"]


async def test_count_rules_and_list(inv: Inv) -> None:
    bgd = await inv.warehouse("BGD-MAIN")
    before = await inv.snapshot()
    # The seeded open chargers count of Baghdad main overlaps any full count there.
    r = await inv.send(IM, "POST", "/counts", {"warehouse_id": bgd, "scope": "full"})
    assert r.status_code == 409 and r.json()["error_code"] == "COUNT_IN_PROGRESS"
    r = await inv.send(IM, "POST", "/counts", {"warehouse_id": bgd, "scope": "category"})
    assert r.status_code == 422
    r = await inv.send(BM2, "POST", "/counts", {"warehouse_id": bgd, "scope": "products", "product_ids": [1]})
    assert r.status_code == 404 and r.json()["error_code"] == "WAREHOUSE_NOT_FOUND"
    r = await inv.send(IM, "POST", "/counts", {"warehouse_id": bgd, "scope": "products", "product_ids": []})
    assert r.status_code == 422 and r.json()["error_code"] == "EMPTY_SCOPE"
    assert await inv.snapshot() == before
    listed = await inv.data(BM1, "/counts", status="open")
    async with inv.api.db() as s:
        open_ids = set(
            await s.scalars(
                select(Count.id).where(
                    Count.status == "open", Count.warehouse_id.in_([bgd, await inv.warehouse("BGD-SHOP")])
                )
            )
        )
        seeded = (
            (await s.execute(select(Count).where(Count.status == "open", Count.warehouse_id == bgd)))
            .scalars()
            .first()
        )
        assert seeded is not None
        total = len(list(await s.scalars(select(CountLine.id).where(CountLine.count_id == seeded.id))))
    assert {c["id"] for c in listed["items"]} == open_ids
    row = next(c for c in listed["items"] if c["id"] == seeded.id)
    assert row["progress"]["total"] == total and row["scope"] == "category" and row["category"]
    # Cache: a second read is served from the cache, a count change invalidates it.
    assert (await inv.get(BM1, "/counts", status="open")).json()["metadata"]["cached"] is True
    (a,) = await inv.stocked(await inv.warehouse("BGD-SHOP"), 1)
    count = await _start(inv, BM1, await inv.warehouse("BGD-SHOP"), [a.product_id])
    fresh = await inv.get(BM1, "/counts", status="open")
    assert fresh.json()["metadata"]["cached"] is False
    assert count["id"] in {c["id"] for c in fresh.json()["data"]["items"]}
    r = await inv.send(BM1, "POST", f"/counts/{count['id']}/completion", {"apply": False})
    assert r.status_code == 200 and r.json()["data"]["status"] == "completed"
