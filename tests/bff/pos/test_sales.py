"""POS-09 start, POS-10 detail, POS-11 lines, POS-12 payment, POS-13 discard, POS-15 list."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.pos.conftest import ADMIN, BM1, CASHIER1, CASHIER2, Pos, amount, iqd, usd
from tsh.domain.accounting.models import JournalEntry
from tsh.domain.accounting.posting import rate_in_force
from tsh.domain.aftersales.models import Warranty
from tsh.domain.identity.models import AuditLog
from tsh.domain.pos.models import PosLine, PosTender, PosTransaction


async def test_sale_is_priced_by_the_server_and_matches_the_database(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1):
        sale = await pos.sale(
            CASHIER1, [{"product_id": product["id"], "qty": 2, "discount_pct": "5"}], order_discount_pct=3
        )
        assert sale["status"] == "open" and sale["receipt_number"] is None
        async with pos.db() as s:
            row = await s.get(PosTransaction, sale["id"])
            lines = list(await s.scalars(select(PosLine).where(PosLine.transaction_id == sale["id"])))
        assert row is not None and len(lines) == 1
        assert amount(sale["total"]) == row.total == lines[0].line_total + lines[0].tax
        assert amount(sale["subtotal"]) - amount(sale["discount"]) + amount(sale["tax"]) == row.total
        assert amount(sale["discount"]) > 0
        assert sale["lines"][0]["discount_pct"] == "5.00" and sale["order_discount_pct"] == "3.00"
        detail = await pos.data(CASHIER1, f"/transactions/{sale['id']}")
        assert detail == sale
        # The client cannot set prices: unknown fields are refused.
        r = await pos.send(
            CASHIER1, "PUT", f"/transactions/{sale['id']}/lines",
            {"lines": [{"product_id": product["id"], "qty": 1, "unit_price": "1"}]}, key=None,
        )  # fmt: skip
        assert r.status_code == 422


async def test_lines_validation_and_rules_change_nothing(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1):
        sale = await pos.sale(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        path = f"/transactions/{sale['id']}/lines"
        before = await pos.snapshot()
        for lines in (
            [{"product_id": product["id"], "qty": 0}],
            [{"product_id": product["id"], "qty": -1}],
            [{"product_id": product["id"], "qty": 10**9}],
            [{"product_id": product["id"], "qty": 1, "discount_pct": "101"}],
            [{"product_id": product["id"], "qty": 1, "serial_number": "S" * 101}],
            [{"product_id": product["id"], "qty": 1, "colour": "red"}],
        ):
            r = await pos.send(CASHIER1, "PUT", path, {"lines": lines}, key=None)
            assert r.status_code == 422, (lines, r.text)
        # Stock of the terminal's warehouse.
        r = await pos.send(
            CASHIER1,
            "PUT",
            path,
            {"lines": [{"product_id": product["id"], "qty": product["available"] + 1}]},
            key=None,
        )
        assert r.status_code == 409 and r.json()["error_code"] == "INSUFFICIENT_STOCK"
        # A cashier's discount above the 10 % limit needs a manager; the manager may.
        r = await pos.send(
            CASHIER1,
            "PUT",
            path,
            {"lines": [{"product_id": product["id"], "qty": 1, "discount_pct": "15"}]},
            key=None,
        )
        assert r.status_code == 403 and r.json()["error_code"] == "APPROVAL_REQUIRED"
        r = await pos.send(
            CASHIER1,
            "PUT",
            path,
            {"lines": [{"product_id": product["id"], "qty": 1}], "order_discount_pct": "12"},
            key=None,
        )
        assert r.status_code == 403 and r.json()["error_code"] == "APPROVAL_REQUIRED"
        assert await pos.snapshot() == before
        assert await pos.data(CASHIER1, f"/transactions/{sale['id']}") == sale
        r = await pos.send(
            BM1,
            "PUT",
            path,
            {"lines": [{"product_id": product["id"], "qty": 1, "discount_pct": "15"}]},
            key=None,
        )
        assert r.status_code == 200, r.text
        assert r.json()["data"]["lines"][0]["discount_pct"] == "15.00"


async def test_start_sale_rules(pos: Pos) -> None:
    await pos._cleanup(CASHIER1, "BGD-POS-1")
    before = await pos.snapshot()
    r = await pos.send(CASHIER1, "POST", "/transactions", {}, key=None)
    assert r.status_code == 409 and r.json()["error_code"] == "NO_OPEN_SHIFT"
    assert await pos.snapshot() == before
    async with pos.shift(CASHIER1):
        r = await pos.send(CASHIER1, "POST", "/transactions", {"customer_id": 2**31 - 1}, key=None)
        assert r.status_code == 404 and r.json()["error_code"] == "CUSTOMER_NOT_FOUND"
        for _ in range(5):
            await pos.start(CASHIER1)
        before = await pos.snapshot()
        r = await pos.send(CASHIER1, "POST", "/transactions", {}, key=None)
        assert r.status_code == 409 and r.json()["error_code"] == "TOO_MANY_OPEN"
        assert await pos.snapshot() == before


async def test_payment_rules_change_nothing(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1, float_iqd=0):
        sale = await pos.sale(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        total = amount(sale["total"])
        before = await pos.snapshot()
        cases = [
            ([{"method": "cash", "amount": iqd(total - 1)}], 422, "PAYMENT_SHORT"),
            ([{"method": "card", "amount": iqd(total + 1)}], 422, "OVERPAID_NON_CASH"),
            (
                [{"method": "card", "amount": iqd(total)}, {"method": "zain_cash", "amount": iqd(5)}],
                422,
                "OVERPAID_NON_CASH",
            ),
            # IQD change for dollars must come out of the drawer, which is empty.
            ([{"method": "cash", "amount": usd(1000)}], 409, "DRAWER_NEGATIVE"),
            ([{"method": "card", "amount": usd(1000)}], 422, "VALIDATION_ERROR"),
            ([{"method": "cheque", "amount": iqd(total)}], 422, "VALIDATION_ERROR"),
            ([], 422, "VALIDATION_ERROR"),
        ]
        for tenders, status, code in cases:
            r = await pos.pay(CASHIER1, sale, tenders)
            assert r.status_code == status and r.json()["error_code"] == code, (tenders, r.text)
        r = await pos.send(
            CASHIER1,
            "POST",
            f"/transactions/{sale['id']}/payments",
            {"tenders": [{"method": "cash", "amount": iqd(total)}]},
            key=None,
        )
        assert r.status_code == 400
        assert await pos.snapshot() == before


async def test_split_payment_with_usd_and_change_in_iqd(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1, float_iqd=1_000_000) as shift:
        sale = await pos.sale(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        total = amount(sale["total"])
        card = (total // 2).quantize(Decimal("1"))
        before = await pos.snapshot()
        on_hand = await pos.available(product["id"], product["warehouse_id"])
        tenders = [
            {"method": "card", "amount": iqd(card), "reference": "AUTH-1"},
            {"method": "cash", "amount": usd(500)},
        ]
        key = uuid.uuid4().hex
        r = await pos.send(
            CASHIER1, "POST", f"/transactions/{sale['id']}/payments", {"tenders": tenders}, key=key
        )
        assert r.status_code == 200, r.text
        done = r.json()["data"]
        async with pos.db() as s:
            rate = await rate_in_force(
                s, await s.scalar(select(PosTransaction.completed_at).where(PosTransaction.id == sale["id"]))
            )
            rows = list(
                await s.scalars(
                    select(PosTender).where(PosTender.transaction_id == sale["id"]).order_by(PosTender.id)
                )
            )
            entries = await s.scalar(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.source_type == "pos_transaction", JournalEntry.source_id == sale["id"])
            )
        usd_iqd = (Decimal(500) * rate).quantize(Decimal("1"))
        change = card + usd_iqd - total
        assert done["status"] == "completed" and done["receipt_number"]
        assert done["change"] == iqd(change) and rows[1].change_iqd == change
        assert rows[1].currency == "USD" and rows[1].exchange_rate == rate
        assert entries == 2  # the sale (IQD) and the USD cash settlement
        assert await pos.drawer(shift["id"]) == {"IQD": Decimal(1_000_000) - change, "USD": Decimal("500.00")}
        assert await pos.available(product["id"], product["warehouse_id"]) == on_hand - 1
        after = await pos.snapshot()
        assert after["completed"] == before["completed"] + 1 and after["movements"] == before["movements"] + 1
        replay = await pos.send(
            CASHIER1, "POST", f"/transactions/{sale['id']}/payments", {"tenders": tenders}, key=key
        )
        assert replay.status_code == 200 and replay.json()["data"] == done
        other = await pos.send(
            CASHIER1, "POST", f"/transactions/{sale['id']}/payments", {"tenders": tenders[:1]}, key=key
        )
        assert other.status_code == 422 and other.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
        assert await pos.snapshot() == after
        again = await pos.pay(CASHIER1, sale, tenders)
        assert again.status_code == 409 and again.json()["error_code"] == "TRANSACTION_NOT_OPEN"
        r = await pos.send(CASHIER1, "DELETE", f"/transactions/{sale['id']}", params={"reason": "oops"})
        assert r.status_code == 409 and r.json()["error_code"] == "TRANSACTION_COMPLETED"
    await pos.assert_ledger_sound()


async def test_receipt_numbers_are_unique_per_branch(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1):
        a = await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        b = await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 1}])
    assert a["receipt_number"] != b["receipt_number"]
    assert a["receipt_number"].startswith("R-BGD-") and a["receipt"]["number"] == a["receipt_number"]


async def test_serialised_items_need_a_serial_and_get_a_warranty(pos: Pos) -> None:
    product = await pos.product(serialised=True, min_available=1)
    async with pos.shift(CASHIER1):
        sale = await pos.sale(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        before = await pos.snapshot()
        r = await pos.pay(CASHIER1, sale)
        assert r.status_code == 422 and r.json()["error_code"] == "SERIAL_REQUIRED"
        assert await pos.snapshot() == before
        serial = "SN-" + uuid.uuid4().hex[:12]
        r = await pos.send(
            CASHIER1, "PUT", f"/transactions/{sale['id']}/lines",
            {"lines": [{"product_id": product["id"], "qty": 1, "serial_number": serial}]}, key=None,
        )  # fmt: skip
        assert r.status_code == 200, r.text
        r = await pos.pay(CASHIER1, r.json()["data"])
        assert r.status_code == 200, r.text
        async with pos.db() as s:
            warranty = (
                await s.execute(select(Warranty).where(Warranty.serial_number == serial))
            ).scalar_one()
        assert warranty.status == "active" and warranty.pos_line_id == r.json()["data"]["lines"][0]["id"]


async def test_discard_is_audited(pos: Pos) -> None:
    async with pos.shift(CASHIER1):
        sale = await pos.start(CASHIER1)
        r = await pos.send(CASHIER1, "DELETE", f"/transactions/{sale['id']}", key=None)
        assert r.status_code == 422  # reason is required
        r = await pos.send(CASHIER2, "DELETE", f"/transactions/{sale['id']}", params={"reason": "x"})
        assert r.status_code == 404
        r = await pos.send(
            CASHIER1, "DELETE", f"/transactions/{sale['id']}", params={"reason": "customer left"}
        )
        assert r.status_code == 200 and r.json()["data"]["status"] == "discarded"
        async with pos.db() as s:
            row = await s.get(PosTransaction, sale["id"])
            audit = (
                await s.execute(
                    select(AuditLog).where(AuditLog.action == "POS-13", AuditLog.entity_id == sale["id"])
                )
            ).scalar_one()
        assert row is not None and row.status == "discarded" and row.discard_reason == "customer left"
        assert audit.actor_id == await pos.user_id(CASHIER1)


async def test_sales_list_scope_cache_and_receipt_lookup(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(BM1):
        theirs = await pos.sold(BM1, [{"product_id": product["id"], "qty": 1}])
    async with pos.shift(CASHIER1):
        first = await pos.get(CASHIER1, "/transactions", limit=100)
        assert (await pos.get(CASHIER1, "/transactions", limit=100)).json()["metadata"]["cached"] is True
        mine = await pos.sold(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        listed = (await pos.get(CASHIER1, "/transactions", limit=100)).json()
        assert listed["metadata"]["cached"] is False
        ids = [i["id"] for i in listed["data"]["items"]]
        assert ids[0] == mine["id"] and theirs["id"] not in ids
        assert len(ids) >= len(first.json()["data"]["items"])
        uid = await pos.user_id(CASHIER1)
        assert all(i["cashier"]["id"] == uid for i in listed["data"]["items"])
        # A receipt lookup searches the whole branch, so the cashier can refund it.
        found = await pos.data(CASHIER1, "/transactions", receipt_number=theirs["receipt_number"])
        assert [i["id"] for i in found["items"]] == [theirs["id"]]
        assert (await pos.get(CASHIER1, f"/transactions/{theirs['id']}")).status_code == 200
        assert (await pos.get(CASHIER2, f"/transactions/{theirs['id']}")).status_code == 404
        nothing = await pos.data(CASHIER2, "/transactions", receipt_number=theirs["receipt_number"])
        assert nothing["items"] == []
        by_method = await pos.data(BM1, "/transactions", method="cash", limit=100)
        assert all("cash" in i["methods"] for i in by_method["items"])
        r = await pos.get(CASHIER1, "/transactions", cashier_id=await pos.user_id(BM1))
        assert r.status_code == 404
    admin = await pos.data(ADMIN, "/transactions", receipt_number=mine["receipt_number"])
    assert admin["items"][0]["total"] == mine["total"]
