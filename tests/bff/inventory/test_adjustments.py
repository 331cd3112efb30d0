"""INV-12/INV-13: adjustments at average cost posted to the ledger, negative stock refused, the
branch approval limit, scope and cache invalidation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.bff.inventory.conftest import BM1, BM2, IM, WS1, Inv
from tsh.domain.accounting.models import JournalEntry, JournalLine
from tsh.domain.inventory.models import Adjustment, StockMovement


async def test_loss_adjustment_lowers_stock_and_posts_its_value(inv: Inv) -> None:
    wid = await inv.warehouse("BGD-MAIN")
    a, b = await inv.stocked(wid, 2, min_available=3)
    listed = await inv.get(BM1, "/adjustments")
    assert (await inv.get(BM1, "/adjustments")).json()["metadata"]["cached"] is True
    body = {
        "warehouse_id": wid,
        "reason": "damage",
        "lines": [
            {"product_id": a.product_id, "qty_delta": -1},
            {"product_id": b.product_id, "qty_delta": 1},
        ],
        "note": "dropped from the shelf; one found behind the rack",
    }
    # Keep the value under the branch limit for the branch manager.
    assert a.avg_cost + b.avg_cost < Decimal("2500000")
    r = await inv.send(BM1, "POST", "/adjustments", body)
    assert r.status_code == 201, r.text
    adj = r.json()["data"]
    assert adj["source"] == "manual" and adj["line_count"] == 2
    expected = (b.avg_cost - a.avg_cost).quantize(Decimal("1"))
    assert abs(Decimal(adj["value"]["amount"]) - expected) <= 1
    assert (await inv.level(a.product_id, wid)).on_hand == a.on_hand - 1  # type: ignore[union-attr]
    assert (await inv.level(b.product_id, wid)).on_hand == b.on_hand + 1  # type: ignore[union-attr]
    async with inv.api.db() as s:
        row = await s.get(Adjustment, adj["id"])
        assert row is not None
        moves = list(
            await s.scalars(
                select(StockMovement).where(
                    StockMovement.source_type == "adjustment", StockMovement.source_id == row.id
                )
            )
        )
        assert sorted(m.qty for m in moves) == [-1, 1] and {m.type for m in moves} == {"adjustment"}
        if row.value != 0:
            entry = await s.get(JournalEntry, row.journal_entry_id)
            assert entry is not None and entry.source_type == "adjustment"
            total = sum(
                (
                    ln.debit
                    for ln in await s.scalars(select(JournalLine).where(JournalLine.entry_id == entry.id))
                ),
                Decimal(0),
            )
            assert total == abs(row.value)
    # The list is invalidated by StockChanged and shows the new row first.
    fresh = await inv.get(BM1, "/adjustments")
    assert fresh.json()["metadata"]["cached"] is False
    assert fresh.json()["data"]["items"][0]["id"] == adj["id"]
    assert fresh.json()["data"] != listed.json()["data"]
    await inv.assert_sound()


async def test_negative_stock_and_bad_bodies_change_nothing(inv: Inv) -> None:
    wid = await inv.warehouse("BGD-MAIN")
    (a,) = await inv.stocked(wid, 1)
    before = await inv.snapshot()
    base = {"warehouse_id": wid, "reason": "loss", "note": "stock-take difference"}
    cases = [
        (
            {**base, "lines": [{"product_id": a.product_id, "qty_delta": -(a.on_hand + 1)}]},
            409,
            "NEGATIVE_STOCK",
        ),
        ({**base, "lines": [{"product_id": a.product_id, "qty_delta": 0}]}, 422, "VALIDATION_ERROR"),
        (
            {**base, "lines": [{"product_id": a.product_id, "qty_delta": -1}], "media_ids": [999999]},
            422,
            "VALIDATION_ERROR",
        ),
        (
            {**base, "reason": "count", "lines": [{"product_id": a.product_id, "qty_delta": -1}]},
            422,
            "VALIDATION_ERROR",
        ),
        (
            {**base, "note": "", "lines": [{"product_id": a.product_id, "qty_delta": -1}]},
            422,
            "VALIDATION_ERROR",
        ),
        (
            {
                **base,
                "lines": [
                    {"product_id": a.product_id, "qty_delta": -1},
                    {"product_id": a.product_id, "qty_delta": 1},
                ],
            },
            422,
            "DUPLICATE_LINE",
        ),
    ]
    for body, status, code in cases:
        r = await inv.send(IM, "POST", "/adjustments", body)
        assert (r.status_code, r.json()["error_code"]) == (status, code), r.text
    # Basra's manager cannot adjust Baghdad's stock.
    r = await inv.send(
        BM2, "POST", "/adjustments", {**base, "lines": [{"product_id": a.product_id, "qty_delta": -1}]}
    )
    assert r.status_code == 404 and r.json()["error_code"] == "WAREHOUSE_NOT_FOUND"
    # Warehouse staff may not adjust at all.
    r = await inv.send(
        WS1, "POST", "/adjustments", {**base, "lines": [{"product_id": a.product_id, "qty_delta": -1}]}
    )
    assert r.status_code == 403
    assert await inv.snapshot() == before


async def test_branch_manager_above_the_limit_needs_the_inventory_manager(inv: Inv) -> None:
    wid = await inv.warehouse("BGD-MAIN")
    rows = await inv.stocked(wid, 40, min_available=2)
    # A loss worth more than the 2,500,000 IQD branch limit.
    lines, value = [], Decimal(0)
    for lv in rows:
        qty = min(lv.on_hand - lv.reserved, 3)
        lines.append({"product_id": lv.product_id, "qty_delta": -qty})
        value += qty * lv.avg_cost
        if value > Decimal("2600000"):
            break
    assert value > Decimal("2500000")
    body = {"warehouse_id": wid, "reason": "expiry", "lines": lines, "note": "water damage in aisle 4"}
    before = await inv.snapshot()
    r = await inv.send(BM1, "POST", "/adjustments", body)
    assert r.status_code == 403 and r.json()["error_code"] == "APPROVAL_REQUIRED"
    assert await inv.snapshot() == before
    r = await inv.send(IM, "POST", "/adjustments", body)
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["data"]["value"]["amount"]) < -Decimal("2500000")
    await inv.assert_sound()


async def test_damage_photos_are_the_callers_uploads(
    inv: Inv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inv.api.ctx.settings, "media_dir", str(tmp_path))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    headers = await inv.api.auth.headers(BM1)
    r = await inv.api.client.post(
        "/api/media", files={"file": ("damage.png", png, "image/png")}, headers=headers
    )
    assert r.status_code == 201, r.text
    media_id = r.json()["id"]
    wid = await inv.warehouse("BGD-MAIN")
    (a,) = await inv.stocked(wid, 1, min_available=2)
    body = {
        "warehouse_id": wid,
        "reason": "damage",
        "lines": [{"product_id": a.product_id, "qty_delta": -1}],
        "note": "box crushed by forklift",
        "media_ids": [media_id],
    }
    # Another user's upload is refused; the uploader's own is kept on the adjustment.
    before = await inv.snapshot()
    r = await inv.send(IM, "POST", "/adjustments", body)
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "media_ids[0]"
    assert await inv.snapshot() == before
    r = await inv.send(BM1, "POST", "/adjustments", body)
    assert r.status_code == 201, r.text
    async with inv.api.db() as s:
        row = await s.get(Adjustment, r.json()["data"]["id"])
        assert row is not None and row.media_ids == [media_id]
