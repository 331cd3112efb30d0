"""INV-06..INV-11: request, dispatch, receipt (short), cancellation; stock, in transit, movements
and the loss entry against the database; branch ends; rejected commands change nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import select

from tests.bff.inventory.conftest import BM1, IM, WS1, WS2, Inv
from tsh.domain.accounting.models import JournalEntry
from tsh.domain.inventory.models import StockMovement, Transfer, TransferLine


async def test_transfer_round_trip_with_a_shortage(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("BSR-MAIN")
    a, b = await inv.stocked(src, 2, min_available=10)
    t = await inv.transfer(WS1, src, dst, [(a.product_id, 6), (b.product_id, 4)])
    assert t["status"] == "requested" and t["line_count"] == 2
    assert [ln["qty_requested"] for ln in t["lines"]] == [6, 4]
    # Nothing moves at request time.
    assert (await inv.level(a.product_id, src)).on_hand == a.on_hand  # type: ignore[union-attr]

    # Basra staff cannot dispatch from Baghdad; Baghdad staff can.
    r = await inv.send(WS2, "POST", f"/transfers/{t['id']}/dispatch", {})
    assert r.status_code == 404 and r.json()["error_code"] == "TRANSFER_NOT_FOUND"
    dst_a_before = await inv.level(a.product_id, dst)
    r = await inv.send(
        WS1, "POST", f"/transfers/{t['id']}/dispatch", {"lines": [{"product_id": b.product_id, "qty": 3}]}
    )
    assert r.status_code == 200, r.text
    sent = r.json()["data"]
    assert sent["status"] == "dispatched"
    assert {ln["product"]["id"]: ln["qty_dispatched"] for ln in sent["lines"]} == {
        a.product_id: 6,
        b.product_id: 3,
    }
    src_a = await inv.level(a.product_id, src)
    dst_a = await inv.level(a.product_id, dst)
    assert src_a is not None and dst_a is not None
    assert src_a.on_hand == a.on_hand - 6
    assert dst_a.in_transit_in == (dst_a_before.in_transit_in if dst_a_before else 0) + 6
    async with inv.api.db() as s:
        outs = list(
            await s.scalars(
                select(StockMovement).where(
                    StockMovement.source_type == "transfer", StockMovement.source_id == t["id"]
                )
            )
        )
    assert sorted((m.type, m.qty) for m in outs) == [("transfer_out", -6), ("transfer_out", -3)]
    assert all(m.avg_cost_after == m.unit_cost for m in outs if m.product_id == a.product_id)

    # Baghdad staff cannot receive into Basra; Basra staff receive 5 of 6 and all 3.
    body = {
        "lines": [
            {"product_id": a.product_id, "qty_received": 5},
            {"product_id": b.product_id, "qty_received": 3},
        ]
    }
    r = await inv.send(WS1, "POST", f"/transfers/{t['id']}/receipt", body)
    assert r.status_code == 404
    dst_on_hand = dst_a.on_hand
    r = await inv.send(WS2, "POST", f"/transfers/{t['id']}/receipt", {**body, "note": "one box crushed"})
    assert r.status_code == 200, r.text
    got = r.json()["data"]
    assert got["status"] == "received_short"
    assert {ln["product"]["id"]: ln["shortage"] for ln in got["lines"]} == {a.product_id: 1, b.product_id: 0}
    assert [s["step"] for s in got["timeline"]] == ["requested", "dispatched", "received_short"]
    dst_a = await inv.level(a.product_id, dst)
    assert dst_a is not None and dst_a.on_hand == dst_on_hand + 5
    assert dst_a.in_transit_in == (dst_a_before.in_transit_in if dst_a_before else 0)
    async with inv.api.db() as s:
        row = await s.get(Transfer, t["id"])
        assert row is not None and row.journal_entry_id is not None
        entry = await s.get(JournalEntry, row.journal_entry_id)
        line = (
            await s.execute(
                select(TransferLine).where(
                    TransferLine.transfer_id == t["id"], TransferLine.product_id == a.product_id
                )
            )
        ).scalar_one()
    assert entry is not None and entry.source_type == "transfer"
    assert line.unit_cost is not None and line.unit_cost == a.avg_cost
    # The detail is readable from both ends.
    assert (await inv.data(WS1, f"/transfers/{t['id']}"))["status"] == "received_short"
    assert (await inv.data(WS2, f"/transfers/{t['id']}"))["lines"][0]["qty_received"] in (5, 3)
    await inv.assert_sound()


async def test_full_receipt_posts_nothing_and_wrong_states_are_409(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("BGD-SHOP")
    (a,) = await inv.stocked(src, 1, min_available=5)
    t = await inv.transfer(BM1, src, dst, [(a.product_id, 2)])
    r = await inv.send(
        WS1,
        "POST",
        f"/transfers/{t['id']}/receipt",
        {"lines": [{"product_id": a.product_id, "qty_received": 2}]},
    )
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_STATE"
    r = await inv.send(
        WS1, "POST", f"/transfers/{t['id']}/dispatch", {"lines": [{"product_id": a.product_id, "qty": 3}]}
    )
    assert r.status_code == 422 and r.json()["error_code"] == "OVER_DISPATCH"
    assert (await inv.send(WS1, "POST", f"/transfers/{t['id']}/dispatch", {})).status_code == 200
    before = await inv.snapshot()
    for email, path, body in [
        (WS1, "dispatch", {}),
        (BM1, "cancellation", {"reason": "too late"}),
        (WS1, "receipt", {"lines": [{"product_id": a.product_id, "qty_received": 3}]}),
    ]:
        r = await inv.send(email, "POST", f"/transfers/{t['id']}/{path}", body)
        assert r.status_code in (409, 422), r.text
        assert r.json()["error_code"] in ("INVALID_STATE", "OVER_RECEIPT")
    assert await inv.snapshot() == before
    r = await inv.send(
        WS1,
        "POST",
        f"/transfers/{t['id']}/receipt",
        {"lines": [{"product_id": a.product_id, "qty_received": 2}]},
    )
    assert r.status_code == 200 and r.json()["data"]["status"] == "received"
    async with inv.api.db() as s:
        row = await s.get(Transfer, t["id"])
        assert row is not None and row.journal_entry_id is None
    await inv.assert_sound()


async def test_rejected_requests_change_nothing(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("ERB-MAIN")
    (a,) = await inv.stocked(src, 1)
    before = await inv.snapshot()
    cases = [
        (
            {
                "from_warehouse_id": src,
                "to_warehouse_id": src,
                "lines": [{"product_id": a.product_id, "qty": 1}],
            },
            422,
            "SAME_WAREHOUSE",
        ),
        (
            {
                "from_warehouse_id": src,
                "to_warehouse_id": dst,
                "lines": [{"product_id": a.product_id, "qty": 1}, {"product_id": a.product_id, "qty": 2}],
            },
            422,
            "DUPLICATE_LINE",
        ),
        ({"from_warehouse_id": src, "to_warehouse_id": dst, "lines": []}, 422, "VALIDATION_ERROR"),
        (
            {
                "from_warehouse_id": src,
                "to_warehouse_id": dst,
                "lines": [{"product_id": a.product_id, "qty": 0}],
            },
            422,
            "VALIDATION_ERROR",
        ),
        (
            {"from_warehouse_id": src, "to_warehouse_id": dst, "lines": [{"product_id": 99999, "qty": 1}]},
            404,
            "PRODUCT_NOT_FOUND",
        ),
        (
            {
                "from_warehouse_id": src,
                "to_warehouse_id": 99999,
                "lines": [{"product_id": a.product_id, "qty": 1}],
            },
            404,
            "WAREHOUSE_NOT_FOUND",
        ),
    ]
    for body, status, code in cases:
        r = await inv.send(WS1, "POST", "/transfers", body)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (body, r.text)
    # Basra staff may not move stock between two warehouses outside their branch.
    r = await inv.send(
        WS2,
        "POST",
        "/transfers",
        {"from_warehouse_id": src, "to_warehouse_id": dst, "lines": [{"product_id": a.product_id, "qty": 1}]},
    )
    assert r.status_code == 404 and r.json()["error_code"] == "WAREHOUSE_NOT_FOUND"
    assert await inv.snapshot() == before


async def test_dispatch_above_available_is_409_and_moves_nothing(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-SHOP"), await inv.warehouse("BGD-MAIN")
    (a,) = await inv.stocked(src, 1, min_available=1)
    free = a.on_hand - a.reserved
    t = await inv.transfer(WS1, src, dst, [(a.product_id, free + 1)])
    before = await inv.snapshot()
    r = await inv.send(WS1, "POST", f"/transfers/{t['id']}/dispatch", {})
    assert r.status_code == 409 and r.json()["error_code"] == "INSUFFICIENT_STOCK"
    assert r.json()["details"][0]["available"] == free
    assert await inv.snapshot() == before
    r = await inv.send(WS1, "POST", f"/transfers/{t['id']}/cancellation", {"reason": "requested too much"})
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    assert r.json()["data"]["timeline"][-1]["note"] == "requested too much"


async def test_concurrent_dispatches_never_oversell(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("BGD-SHOP")
    (a,) = await inv.stocked(src, 1, min_available=4)
    free = a.on_hand - a.reserved
    half = free // 2 + 1
    t1 = await inv.transfer(IM, src, dst, [(a.product_id, half)])
    t2 = await inv.transfer(IM, src, dst, [(a.product_id, half)])
    results = await asyncio.gather(
        inv.send(WS1, "POST", f"/transfers/{t1['id']}/dispatch", {}),
        inv.send(IM, "POST", f"/transfers/{t2['id']}/dispatch", {}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    level = await inv.level(a.product_id, src)
    assert level is not None and level.on_hand == a.on_hand - half >= 0
    await inv.assert_sound()


async def test_list_filters_cache_and_invalidation(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("BSR-SHOP")
    first = await inv.get(WS1, "/transfers", status="requested")
    again = await inv.get(WS1, "/transfers", status="requested")
    assert again.json()["metadata"]["cached"] is True
    assert again.json()["data"] == first.json()["data"]
    (a,) = await inv.stocked(src, 1)
    t = await inv.transfer(WS1, src, dst, [(a.product_id, 1)])
    fresh = await inv.get(WS1, "/transfers", status="requested")
    assert fresh.json()["metadata"]["cached"] is False
    assert fresh.json()["data"]["items"][0]["id"] == t["id"]
    # Direction: out of Baghdad for Baghdad staff, into Basra for Basra staff.
    outs = await inv.data(WS1, "/transfers", direction="out", limit=100)
    assert all(item["from_warehouse"]["code"].startswith("BGD") for item in outs["items"])
    ins = await inv.data(WS2, "/transfers", direction="in", limit=100)
    assert t["id"] in [item["id"] for item in ins["items"]]
    assert all(item["to_warehouse"]["code"].startswith("BSR") for item in ins["items"])
    # Paging: the second page continues where the first stopped.
    p1 = await inv.data(IM, "/transfers", limit=2)
    p2 = await inv.data(IM, "/transfers", limit=2, cursor=p1["next_cursor"])
    assert p1["next_cursor"] and not {i["id"] for i in p1["items"]} & {i["id"] for i in p2["items"]}
    # Another branch's transfer is a 404 for the detail.
    erb, bsr = await inv.warehouse("ERB-MAIN"), await inv.warehouse("BSR-MAIN")
    (e,) = await inv.stocked(erb, 1)
    other = await inv.transfer(IM, erb, bsr, [(e.product_id, 1)])
    r = await inv.get(WS1, f"/transfers/{other['id']}")
    assert r.status_code == 404 and r.json()["error_code"] == "TRANSFER_NOT_FOUND"
    r = await inv.send(WS1, "POST", f"/transfers/{other['id']}/cancellation", {"reason": "x"})
    assert r.status_code == 404
    assert (
        await inv.send(WS2, "POST", f"/transfers/{other['id']}/cancellation", {"reason": "not needed"})
    ).status_code == 200


async def test_idempotent_replay_moves_stock_once(inv: Inv) -> None:
    src, dst = await inv.warehouse("BGD-MAIN"), await inv.warehouse("BGD-SHOP")
    (a,) = await inv.stocked(src, 1)
    t = await inv.transfer(WS1, src, dst, [(a.product_id, 1)])
    r1 = await inv.send(WS1, "POST", f"/transfers/{t['id']}/dispatch", {}, key="inv-dispatch-once")
    r2 = await inv.send(WS1, "POST", f"/transfers/{t['id']}/dispatch", {}, key="inv-dispatch-once")
    assert r1.status_code == r2.status_code == 200
    assert r1.json()["data"] == r2.json()["data"]
    level = await inv.level(a.product_id, src)
    assert level is not None and level.on_hand == a.on_hand - 1
    assert Decimal(r1.json()["data"]["lines"][0]["unit_cost"]["amount"]) == a.avg_cost


async def test_concurrent_adjustment_and_dispatch_keep_stock_non_negative(inv: Inv) -> None:
    src, dst = await inv.warehouse("ERB-MAIN"), await inv.warehouse("BGD-MAIN")
    a = next(lv for lv in await inv.stocked(src, 20, min_available=4) if lv.reserved == 0)
    t = await inv.transfer(IM, src, dst, [(a.product_id, 2)])
    drain = {
        "warehouse_id": src,
        "reason": "loss",
        "lines": [{"product_id": a.product_id, "qty_delta": -(a.on_hand - 1)}],
        "note": "pallet missing after the inventory walk",
    }
    results = await asyncio.gather(
        inv.send(IM, "POST", "/adjustments", drain),
        inv.send(IM, "POST", f"/transfers/{t['id']}/dispatch", {}),
    )
    # Whichever runs second finds the stock gone: exactly one succeeds.
    assert sorted(r.status_code for r in results) in ([201, 409], [200, 409])
    failed = [r for r in results if r.status_code == 409]
    assert len(failed) == 1 and failed[0].json()["error_code"] in ("NEGATIVE_STOCK", "INSUFFICIENT_STOCK")
    level = await inv.level(a.product_id, src)
    assert level is not None and level.on_hand >= 0
    await inv.assert_sound()
    # Put the stock back for the other tests.
    gap = a.on_hand - level.on_hand
    if gap:
        restore = {**drain, "reason": "found", "lines": [{"product_id": a.product_id, "qty_delta": gap}]}
        assert (await inv.send(IM, "POST", "/adjustments", restore)).status_code == 201
