"""PAR-10 payout requests: balance, minimum, one open request (also concurrently), cooldown, suspension."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select, update

from tests.bff.partner.test_self_service import P1, _partner
from tests.http import Api
from tsh.domain.customers.models import Partner
from tsh.domain.sales.models import OPEN_PAYOUT_STATUSES, Commission, CommissionPayout


def iqd(v: Decimal | int) -> dict[str, str]:
    return {"amount": str(Decimal(v).quantize(Decimal("0.01"))), "currency": "IQD"}


async def _payable(api: Api, partner_id: int) -> Decimal:
    async with api.db() as s:
        v = await s.scalar(
            select(func.coalesce(func.sum(Commission.amount), 0)).where(
                Commission.partner_id == partner_id,
                Commission.status == "payable",
                Commission.currency == "IQD",
            )
        )
    return Decimal(v).quantize(Decimal("0.01"))


async def _close_open(api: Api, partner_id: int) -> None:
    async with api.db() as s:
        await s.execute(
            update(CommissionPayout)
            .where(
                CommissionPayout.partner_id == partner_id, CommissionPayout.status.in_(OPEN_PAYOUT_STATUSES)
            )
            .values(status="rejected", decision_note="test cleanup")
        )
        await s.commit()


async def _ensure_payable(api: Api, partner_id: int, at_least: Decimal) -> None:
    """Make accrued commission payable (what delivery does) until the balance reaches `at_least`."""
    async with api.db() as s:
        rows = (
            await s.scalars(
                select(Commission)
                .where(
                    Commission.partner_id == partner_id,
                    Commission.status == "accrued",
                    Commission.currency == "IQD",
                )
                .order_by(Commission.id)
            )
        ).all()
        total = await _payable(api, partner_id)
        for c in rows:
            if total >= at_least:
                break
            c.status, c.payable_at = "payable", dt.datetime.now(dt.UTC)
            total += c.amount
        await s.commit()
    assert await _payable(api, partner_id) >= at_least


async def _count(api: Api, partner_id: int) -> int:
    return await api.count(CommissionPayout, CommissionPayout.partner_id == partner_id)


async def test_payout_rules_change_nothing_and_one_request_passes(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    await _close_open(api, p.id)
    await _ensure_payable(api, p.id, Decimal(60_000))
    balance = await _payable(api, p.id)
    before = await _count(api, p.id)
    r = await par.send(P1, "POST", "/payout-requests", {"amount": iqd(balance + 1)})
    assert r.status_code == 409 and r.json()["error_code"] == "INSUFFICIENT_BALANCE", r.text
    r = await par.send(P1, "POST", "/payout-requests", {"amount": iqd(24_999)})
    assert r.status_code == 422 and r.json()["error_code"] == "BELOW_MINIMUM_PAYOUT", r.text
    for values, code in (
        ({"payout_locked_until": dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)}, "PAYOUT_DETAILS_COOLDOWN"),
        ({"status": "suspended"}, "PARTNER_SUSPENDED"),
    ):
        async with api.db() as s:
            await s.execute(update(Partner).where(Partner.id == p.id).values(**values))
            await s.commit()
        try:
            r = await par.send(P1, "POST", "/payout-requests", {"amount": iqd(25_000)})
            assert r.status_code == 409 and r.json()["error_code"] == code, r.text
        finally:
            async with api.db() as s:
                await s.execute(
                    update(Partner)
                    .where(Partner.id == p.id)
                    .values(payout_locked_until=p.payout_locked_until, status=p.status)
                )
                await s.commit()
    assert await _count(api, p.id) == before
    try:
        # Two concurrent requests: exactly one is recorded, the other finds it pending.
        results = await asyncio.gather(
            *(par.send(P1, "POST", "/payout-requests", {"amount": iqd(25_000)}) for _ in range(2))
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 409], [r.text for r in results]
        refused = next(r for r in results if r.status_code == 409)
        assert refused.json()["error_code"] == "PAYOUT_PENDING"
        created = next(r for r in results if r.status_code == 201).json()["data"]
        assert created["status"] == "requested" and Decimal(created["amount"]["amount"]) == 25_000
        assert await _count(api, p.id) == before + 1
        async with api.db() as s:
            row = await s.get(CommissionPayout, created["id"])
            assert row is not None and row.amount <= balance and row.method == p.payout_method
    finally:
        await _close_open(api, p.id)


async def test_commission_ledger_matches_and_refreshes_after_a_payout_request(api: Api) -> None:
    par = api.app("partner")
    p = await _partner(api, P1)
    await _close_open(api, p.id)
    await _ensure_payable(api, p.id, Decimal(30_000))
    first = (await par.get(P1, "/commissions", limit=100)).json()
    data = first["data"]
    async with api.db() as s:
        n = int(await s.scalar(select(func.count()).where(Commission.partner_id == p.id)) or 0)
    assert len(data["items"]) == min(n, 100)
    iqd_balance = next(m for m in data["balance_available"] if m["currency"] == "IQD")
    assert Decimal(iqd_balance["amount"]) == await _payable(api, p.id)
    overrides = await par.data(P1, "/commissions", kind="override", limit=100)
    assert all(c["kind"] == "override" for c in overrides["items"])
    assert (await par.get(P1, "/commissions", limit=100)).json()["metadata"]["cached"] is True
    try:
        r = await par.send(P1, "POST", "/payout-requests", {"amount": iqd(25_000)})
        assert r.status_code == 201, r.text
        after = (await par.get(P1, "/commissions", limit=100)).json()
        assert after["metadata"]["cached"] is False
        assert after["data"]["payouts"][0]["id"] == r.json()["data"]["id"]
    finally:
        await _close_open(api, p.id)
