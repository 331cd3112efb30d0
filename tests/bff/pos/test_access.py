"""Another owner's objects (404) on every POS endpoint; roles (403) and a missing Idempotency-Key
(400) are tested for every row by tests/bff/test_generic.py."""

from __future__ import annotations

from tests.bff.pos.conftest import CASHIER1, CASHIER2, Pos, iqd
from tsh.bff.spec import REGISTRY
from tsh.main import load_apps


def test_sixteen_endpoints_declared() -> None:
    load_apps()
    pos = [s for s in REGISTRY if s.app == "pos"]
    assert len(pos) == 16
    assert {s.idempotency for s in pos if s.id in ("POS-03", "POS-05", "POS-08", "POS-12", "POS-14")} == {
        "required"
    }


async def test_another_cashiers_objects_are_404(pos: Pos) -> None:
    product = await pos.product()
    async with pos.shift(CASHIER1) as shift:
        open_sale = await pos.sale(CASHIER1, [{"product_id": product["id"], "qty": 1}])
        sid, tid = shift["id"], open_sale["id"]
        before = await pos.snapshot()
        calls = [
            ("GET", f"/transactions/{tid}", None),
            ("PUT", f"/transactions/{tid}/lines", {"lines": []}),
            (
                "POST",
                f"/transactions/{tid}/payments",
                {"tenders": [{"method": "cash", "amount": open_sale["total"]}]},
            ),
            ("DELETE", f"/transactions/{tid}?reason=x", None),
            (
                "POST",
                f"/transactions/{tid}/refunds",
                {"lines": [{"line_id": 1, "qty": 1}], "method": "cash", "reason": "x"},
            ),
            ("POST", f"/shifts/{sid}/closure", {"counted_cash": [iqd(0)], "note": "x"}),
            ("GET", f"/cash-drawer?shift_id={sid}", None),
            ("GET", f"/transactions?shift_id={sid}", None),
        ]
        for method, path, body in calls:
            r = await pos.send(CASHIER2, method, path, body)
            assert r.status_code == 404, (method, path, r.text)
        assert await pos.snapshot() == before
        # A path id that is not 1..2^31-1 in ASCII digits names no row (tsh.platform.http.ids).
        assert (await pos.get(CASHIER1, "/transactions/abc")).status_code == 404
        assert (await pos.get(CASHIER1, "/transactions/0")).status_code == 404
        assert (await pos.get(CASHIER1, f"/transactions/{2**40}")).status_code == 404
        r = await pos.send(CASHIER1, "POST", "/transactions", {"customer_id": 2**40}, key=None)
        assert r.status_code == 422
