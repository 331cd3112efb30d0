"""Two concurrent sales of the last unit: exactly one succeeds, the other is 409 INSUFFICIENT_STOCK."""

from __future__ import annotations

import asyncio

from tests.bff.pos.conftest import BM1, CASHIER1, Pos


async def test_two_sales_of_the_last_unit(pos: Pos) -> None:
    product = await pos.product(min_available=2)
    pid, wid = product["id"], product["warehouse_id"]
    async with pos.shift(CASHIER1, float_iqd=0), pos.shift(BM1, float_iqd=0):
        # Bring availability down to one unit with a card sale (refunded to the card at the end).
        spare = await pos.available(pid, wid) - 1
        bulk = await pos.sale(BM1, [{"product_id": pid, "qty": spare}])
        card = [{"method": "card", "amount": bulk["total"], "reference": "BULK"}]
        r = await pos.pay(BM1, bulk, card)
        assert r.status_code == 200, r.text
        assert await pos.available(pid, wid) == 1
        a = await pos.sale(CASHIER1, [{"product_id": pid, "qty": 1}])
        b = await pos.sale(BM1, [{"product_id": pid, "qty": 1}])
        before = await pos.snapshot()
        ra, rb = await asyncio.gather(
            pos.pay(CASHIER1, a, [{"method": "card", "amount": a["total"], "reference": "A"}]),
            pos.pay(BM1, b, [{"method": "card", "amount": b["total"], "reference": "B"}]),
        )
        statuses = sorted([ra.status_code, rb.status_code])
        assert statuses == [200, 409], (ra.text, rb.text)
        loser = ra if ra.status_code == 409 else rb
        assert loser.json()["error_code"] == "INSUFFICIENT_STOCK"
        assert await pos.available(pid, wid) == 0
        after = await pos.snapshot()
        assert after["completed"] == before["completed"] + 1
        assert after["on_hand"] == before["on_hand"] - 1
        # Put the stock back (refund to the card, restocked) so the demo data stays usable.
        winner = (ra if ra.status_code == 200 else rb).json()["data"]
        for sale in (bulk, winner):
            lines = [{"line_id": ln["id"], "qty": ln["qty"]} for ln in sale["lines"]]
            body = {"lines": lines, "method": "original", "reason": "test restock"}
            r = await pos.send(BM1, "POST", f"/transactions/{sale['id']}/refunds", body)
            assert r.status_code == 201, r.text
        assert await pos.available(pid, wid) == spare + 1
    await pos.assert_ledger_sound()
