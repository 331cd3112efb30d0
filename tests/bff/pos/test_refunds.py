"""POS-14 refunds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select, update

from tests.bff.pos.conftest import BM1, CASHIER1, CASHIER2, Pos, amount
from tsh.domain.aftersales.models import Refund, Warranty
from tsh.domain.pos.models import PosLine, PosTransaction


async def test_partial_refunds_up_to_the_sold_quantity(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1, float_iqd=2_000_000) as shift:
        sale = await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 3}])
        line = sale["lines"][0]
        path = f"/transactions/{sale['id']}/refunds"
        on_hand = await pos.available(product["id"], product["warehouse_id"])
        drawer = await pos.drawer(shift["id"])
        body = {"lines": [{"line_id": line["id"], "qty": 2}], "method": "cash", "reason": "wrong size"}
        key = uuid.uuid4().hex
        r = await pos.send(CASHIER1, "POST", path, body, key=key)
        assert r.status_code == 201, r.text
        refund = r.json()["data"]["refund"]
        paid = amount(line["line_total"]) + amount(line["tax"])
        assert amount(refund["amount"]) == (paid * 2 / 3).quantize(Decimal("1"))
        assert r.json()["data"]["sale"]["lines"][0]["refundable_qty"] == 1
        assert await pos.available(product["id"], product["warehouse_id"]) == on_hand + 2
        assert (await pos.drawer(shift["id"]))["IQD"] == drawer["IQD"] - amount(refund["amount"])
        after = await pos.snapshot()
        replay = await pos.send(CASHIER1, "POST", path, body, key=key)
        assert replay.status_code == 201 and replay.json()["data"] == r.json()["data"]
        assert await pos.snapshot() == after
        # Only one unit is left to refund.
        r = await pos.send(CASHIER1, "POST", path, body)
        assert r.status_code == 409 and r.json()["error_code"] == "REFUND_EXCEEDS_SALE"
        assert await pos.snapshot() == after
        # The last unit, damaged: no restock, and the line refunds to exactly what it cost.
        r = await pos.send(
            CASHIER1, "POST", path, {**body, "lines": [{"line_id": line["id"], "qty": 1}], "restock": False}
        )
        assert r.status_code == 201, r.text
        assert await pos.available(product["id"], product["warehouse_id"]) == on_hand + 2
        async with pos.db() as s:
            refunds = list(
                await s.scalars(
                    select(Refund).where(Refund.source == "pos_transaction", Refund.source_id == sale["id"])
                )
            )
            row = await s.get(PosLine, line["id"])
        assert sum((x.amount for x in refunds), Decimal(0)) == paid
        assert row is not None and row.qty_refunded == 3
        assert all(x.shift_id == shift["id"] and x.journal_entry_id for x in refunds)
    await pos.assert_ledger_sound()


async def test_refund_rules_change_nothing(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(BM1, float_iqd=0):
        sale = await pos.sold(BM1, [{"product_id": product["id"], "qty": 1}], None)
    line_id = sale["lines"][0]["id"]
    path = f"/transactions/{sale['id']}/refunds"
    body = {"lines": [{"line_id": line_id, "qty": 1}], "method": "cash", "reason": "faulty"}
    await pos._cleanup(CASHIER1, "BGD-POS-1")
    before = await pos.snapshot()
    r = await pos.send(CASHIER1, "POST", path, body)
    assert r.status_code == 409 and r.json()["error_code"] == "NO_OPEN_SHIFT"
    async with pos.shift(CASHIER1, float_iqd=0):
        # The cashier's empty drawer cannot pay cash back.
        r = await pos.send(CASHIER1, "POST", path, body)
        assert r.status_code == 409 and r.json()["error_code"] == "DRAWER_NEGATIVE"
        for bad in (
            {**body, "lines": [{"line_id": line_id, "qty": 0}]},
            {**body, "lines": [{"line_id": line_id + 10**6, "qty": 1}]},
            {**body, "lines": []},
            {**body, "method": "bitcoin"},
            {**body, "reason": ""},
            {**body, "extra": 1},
        ):
            r = await pos.send(CASHIER1, "POST", path, bad)
            assert r.status_code == 422, (bad, r.text)
        r = await pos.send(CASHIER1, "POST", path, body, key=None)
        assert r.status_code == 400
        # Another branch's cashier cannot see the sale.
        r = await pos.send(CASHIER2, "POST", path, body)
        assert r.status_code == 404
        after = await pos.snapshot()
        assert {k: v for k, v in after.items() if k not in ("shifts", "open_shifts")} == {
            k: v for k, v in before.items() if k not in ("shifts", "open_shifts")
        }


async def test_old_or_large_refunds_need_a_manager(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(BM1, float_iqd=5_000_000) as bm_shift:
        sale = await pos.sold(BM1, [{"product_id": product["id"], "qty": 1}], None)
        async with pos.db() as s:
            old = (await s.get(PosTransaction, sale["id"])).completed_at - timedelta(days=20)  # type: ignore[union-attr]
            await s.execute(
                update(PosTransaction).where(PosTransaction.id == sale["id"]).values(completed_at=old)
            )
            await s.commit()
        body = {
            "lines": [{"line_id": sale["lines"][0]["id"], "qty": 1}],
            "method": "original",
            "reason": "late",
        }
        path = f"/transactions/{sale['id']}/refunds"
        async with pos.shift(CASHIER1, float_iqd=5_000_000):
            before = await pos.snapshot()
            r = await pos.send(CASHIER1, "POST", path, body)
            assert r.status_code == 403 and r.json()["error_code"] == "APPROVAL_REQUIRED"
            assert await pos.snapshot() == before
        r = await pos.send(BM1, "POST", path, body)
        assert r.status_code == 201, r.text
        assert r.json()["data"]["refund"]["shift_id"] == bm_shift["id"]


async def test_refund_voids_the_warranty_of_the_serial(pos: Pos) -> None:
    product = await pos.product(serialised=True, min_available=1)
    serial = "SN-" + uuid.uuid4().hex[:12]
    async with pos.shift(BM1, float_iqd=0):
        sale = await pos.sale(BM1, [{"product_id": product["id"], "qty": 1, "serial_number": serial}])
        r = await pos.pay(BM1, sale, [{"method": "card", "amount": sale["total"], "reference": "T1"}])
        assert r.status_code == 200, r.text
        body = {
            "lines": [{"line_id": sale["lines"][0]["id"], "qty": 1}],
            "method": "original",
            "reason": "dead on arrival",
        }
        r = await pos.send(BM1, "POST", f"/transactions/{sale['id']}/refunds", body)
        assert r.status_code == 201, r.text
        # Paid by card, refunded to the card: the (empty) drawer is untouched.
        assert r.json()["data"]["refund"]["method"] == "original"
    async with pos.db() as s:
        warranty = (await s.execute(select(Warranty).where(Warranty.serial_number == serial))).scalar_one()
    assert warranty.status == "void"
    await pos.assert_ledger_sound()
