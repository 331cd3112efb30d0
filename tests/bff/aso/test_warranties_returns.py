"""ASO-10/13/14 returns (branch scope, decision, refund limits) and ASO-15/16/17 warranties
(company-wide lookup, claims opening warranty repairs)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.bff.aso.conftest import BM1, BM2, SA1, SA2, TECH1, branch_of, ids
from tests.http import Api
from tsh.domain.aftersales.models import Refund, ReturnRequest, ServiceRequest, Warranty
from tsh.domain.shared import business_today


async def test_warranty_lookup_is_company_wide_and_claims_open_a_repair(api: Api, aso: Api) -> None:
    today = business_today()
    async with api.db() as s:
        open_claims = select(ServiceRequest.warranty_id).where(
            ServiceRequest.type == "warranty_repair",
            ServiceRequest.status.in_(("new", "scheduled", "in_progress", "completed")),
            ServiceRequest.warranty_id.is_not(None),
        )
        w = (
            await s.execute(
                select(Warranty)
                .where(
                    Warranty.status == "active",
                    Warranty.ends_on >= today,
                    Warranty.customer_id.is_not(None),
                    Warranty.id.not_in(open_claims),
                )
                .order_by(Warranty.id)
                .limit(1)
            )
        ).scalar_one()
        void = await s.scalar(select(Warranty.id).where(Warranty.status == "void").limit(1))
    # Found by serial from either branch and by a technician.
    for email in (SA1, SA2, TECH1):
        found = await aso.data(email, "/warranties", serial_number=w.serial_number)
        assert w.id in ids(found["items"])
    row = next(i for i in found["items"] if i["id"] == w.id)
    assert row["status"] == "active" and row["claims_count"] == w.claims_count
    assert row["ends_on"] == w.ends_on.isoformat()
    detail = await aso.data(SA2, f"/warranties/{w.id}")
    assert detail["coverage"]["months"] >= 0 and len(detail["claims"]) >= 0
    assert (await aso.get(SA2, f"/warranties/{w.id}")).json()["metadata"]["cached"] is True
    r = await aso.get(SA2, f"/warranties/{2**31 - 1}")
    assert r.status_code == 404 and r.json()["error_code"] == "WARRANTY_NOT_FOUND"

    r = await aso.send(
        SA2, "POST", f"/warranties/{w.id}/claims", {"description": "Stopped cooling", "priority": "high"}
    )
    assert r.status_code == 201, r.text
    sr = r.json()["data"]
    assert sr["type"] == "warranty_repair" and sr["serial_number"] == w.serial_number
    async with api.db() as s:
        row_sr = await s.get(ServiceRequest, sr["id"])
        assert row_sr is not None and row_sr.branch_id == await branch_of(api, SA2)
        assert row_sr.warranty_id == w.id
        assert (await s.get(Warranty, w.id)).claims_count == w.claims_count + 1  # type: ignore[union-attr]
    # The detail was invalidated by WarrantyChanged and lists the claim.
    r = await aso.get(SA2, f"/warranties/{w.id}")
    assert r.json()["metadata"]["cached"] is False
    assert sr["id"] in {c["service_request_id"] for c in r.json()["data"]["claims"]}
    before = await api.count(ServiceRequest)
    r = await aso.send(SA1, "POST", f"/warranties/{w.id}/claims", {"description": "Again", "priority": "low"})
    assert r.status_code == 409 and r.json()["error_code"] == "CLAIM_OPEN"
    if void is not None:
        r = await aso.send(SA1, "POST", f"/warranties/{void}/claims", {"description": "x", "priority": "low"})
        assert r.status_code == 409 and r.json()["error_code"] == "WARRANTY_VOID"
    assert await api.count(ServiceRequest) == before
    voids = await aso.data(SA1, "/warranties", status="void", limit=100)
    assert all(i["status"] == "void" for i in voids["items"])


async def _staff(api: Api) -> dict[int, tuple[str, str]]:
    return {await branch_of(api, SA1): (SA1, BM1), await branch_of(api, SA2): (SA2, BM2)}


async def test_returns_list_is_the_order_branch(api: Api, aso: Api) -> None:
    staff = await _staff(api)
    for branch, (agent, _) in staff.items():
        data = await aso.data(agent, "/returns", limit=100)
        async with api.db() as s:
            expected = set(await s.scalars(select(ReturnRequest.id).where(ReturnRequest.branch_id == branch)))
        assert ids(data["items"]) == expected
    assert (await aso.get(agent, "/returns", limit=100)).json()["metadata"]["cached"] is True


async def test_approve_then_refund_within_the_approved_amount(api: Api, aso: Api) -> None:
    staff = await _staff(api)
    async with api.db() as s:
        ret = (
            await s.execute(
                select(ReturnRequest)
                .where(ReturnRequest.status == "requested", ReturnRequest.branch_id.in_(staff))
                .order_by(ReturnRequest.id)
                .limit(1)
            )
        ).scalar_one()
    agent, manager = staff[ret.branch_id]
    other = next(a for b, (a, _) in staff.items() if b != ret.branch_id)
    await aso.data(agent, "/returns", limit=100)
    r = await aso.send(other, "POST", f"/returns/{ret.id}/decision", {"decision": "rejected", "note": "x"})
    assert r.status_code == 404
    fee = {"amount": str((ret.value * Decimal("0.2")).quantize(Decimal("1"))), "currency": ret.currency}
    r = await aso.send(
        manager,
        "POST",
        f"/returns/{ret.id}/decision",
        {"decision": "approved", "note": "Sealed", "restocking_fee": fee},
    )
    assert r.status_code == 422 and r.json()["error_code"] == "FEE_TOO_HIGH"
    r = await aso.send(
        manager, "POST", f"/returns/{ret.id}/decision", {"decision": "approved", "note": "Inspected, sealed"}
    )
    assert r.status_code == 200, r.text
    approved = r.json()["data"]
    assert approved["status"] == "approved" and Decimal(approved["approved_amount"]["amount"]) == ret.value
    listed = await aso.get(agent, "/returns", limit=100)
    assert listed.json()["metadata"]["cached"] is False
    r = await aso.send(
        manager, "POST", f"/returns/{ret.id}/decision", {"decision": "rejected", "note": "late"}
    )
    assert r.status_code == 409 and r.json()["error_code"] == "INVALID_STATE"

    refunds = await api.count(Refund)
    too_much = {
        "method": "credit_note",
        "amount": {"amount": str(ret.value + 1000), "currency": ret.currency},
    }
    r = await aso.send(agent, "POST", f"/returns/{ret.id}/refund", too_much)
    assert r.status_code == 409 and r.json()["error_code"] == "REFUND_EXCEEDS_APPROVED"
    assert await api.count(Refund) == refunds
    body = {
        "method": "credit_note",
        "amount": {"amount": approved["approved_amount"]["amount"], "currency": ret.currency},
    }
    r = await aso.send(agent, "POST", f"/returns/{ret.id}/refund", body)
    assert r.status_code == 201, r.text
    assert r.json()["data"]["method"] == "credit_note"
    async with api.db() as s:
        assert (await s.get(ReturnRequest, ret.id)).status == "refunded"  # type: ignore[union-attr]
        refund = await s.get(Refund, r.json()["data"]["id"])
        assert refund is not None and refund.amount == ret.value
    r = await aso.send(agent, "POST", f"/returns/{ret.id}/refund", body)
    assert r.status_code == 409 and r.json()["error_code"] == "ALREADY_REFUNDED"
    assert await api.count(Refund) == refunds + 1
