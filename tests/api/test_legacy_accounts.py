"""Legacy `accounts` writes keep ACC-04 / ACC-05's rules (they run the same service)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select

from tests.api.helpers import SP1, count, scalar
from tests.conftest import Auth
from tests.platform.test_envelope_and_errors import assert_error
from tsh.context import AppContext
from tsh.domain.accounting.models import Account, JournalLine

ACC = "accountant1@demo.tsh.iq"


async def _header(ctx: AppContext, kind: str) -> int:
    """A non-postable account of this type (children go under headers)."""
    return int(
        await scalar(
            ctx,
            select(Account.id)
            .where(Account.type == kind, Account.is_postable.is_(False))
            .order_by(Account.id)
            .limit(1),
        )
    )


async def _used_postable(ctx: AppContext) -> Account:
    async with ctx.db.session() as s:
        used = await s.scalar(
            select(Account)
            .where(Account.is_postable.is_(True), Account.id.in_(select(JournalLine.account_id)))
            .order_by(Account.id)
            .limit(1)
        )
        assert used is not None
        s.expunge(used)
        return used


def _new(parent: int, **extra: Any) -> dict[str, Any]:
    code = f"9{uuid.uuid4().int % 10**6:06d}"
    return {
        "code": code, "name_ar": "مصاريف تجريبية", "name_en": "Trial expenses", "type": "expense",
        "parent_id": parent, "is_postable": True, **extra,
    }  # fmt: skip


async def test_create_and_rename_through_the_chart_service(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    h = await auth.headers(ACC)
    body = _new(await _header(ctx, "expense"), cash_flow_class="operating")
    created = await client.post("/api/accounts", json=body, headers=h)
    assert created.status_code == 201, created.text
    aid = created.json()["id"]
    async with ctx.db.session() as s:
        row = await s.get(Account, aid)
        assert row is not None and (row.code, row.type, row.is_active) == (body["code"], "expense", True)
    renamed = await client.patch(f"/api/accounts/{aid}", json={"name_en": "Trial costs"}, headers=h)
    assert renamed.status_code == 200 and renamed.json()["name_en"] == "Trial costs", renamed.text
    cleared = await client.patch(f"/api/accounts/{aid}", json={"cash_flow_class": None}, headers=h)
    assert cleared.status_code == 200 and cleared.json()["cash_flow_class"] is None
    # No lines yet: the account may still be deactivated.
    off = await client.patch(f"/api/accounts/{aid}", json={"is_active": False}, headers=h)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert_error(
        await client.patch(f"/api/accounts/{aid}", json={"name_en": "x"}, headers=await auth.headers(SP1)),
        403,
        "FORBIDDEN",
    )


async def test_chart_rules_refuse_and_change_nothing(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    h = await auth.headers(ACC)
    used = await _used_postable(ctx)
    header = await _header(ctx, "expense")
    before = await count(ctx, Account)
    snapshot = await scalar(ctx, select(func.count()).select_from(Account).where(Account.is_active.is_(True)))
    refusals = [
        ("POST", "/api/accounts", _new(used.id), 422, "PARENT_POSTABLE"),
        ("POST", "/api/accounts", _new(await _header(ctx, "asset")), 422, "TYPE_MISMATCH"),
        ("POST", "/api/accounts", _new(header, code=used.code), 409, "ACCOUNT_CODE_TAKEN"),
        ("POST", "/api/accounts", _new(header, type="income"), 422, "VALIDATION_ERROR"),
        ("PATCH", f"/api/accounts/{used.id}", {"code": "X-" + used.code[:10]}, 422, "FIELD_NOT_EDITABLE"),
        ("PATCH", f"/api/accounts/{used.id}", {"is_postable": False}, 422, "FIELD_NOT_EDITABLE"),
        ("PATCH", f"/api/accounts/{used.id}", {"name_en": None}, 422, "VALIDATION_ERROR"),
        ("PATCH", f"/api/accounts/{used.id}", {}, 422, "VALIDATION_ERROR"),
        ("PATCH", f"/api/accounts/{used.id}", {"system_key": "x"}, 422, "VALIDATION_ERROR"),
    ]
    for method, url, body, status, code in refusals:
        assert_error(await client.request(method, url, json=body, headers=h), status, code)
    assert await count(ctx, Account) == before
    assert (
        await scalar(ctx, select(func.count()).select_from(Account).where(Account.is_active.is_(True)))
        == snapshot
    )
    again = await _used_postable(ctx)
    assert (again.code, again.is_postable, again.name_en) == (used.code, used.is_postable, used.name_en)


async def test_deactivating_an_account_with_a_balance_is_refused(
    client: httpx.AsyncClient, auth: Auth, ctx: AppContext
) -> None:
    cash = await scalar(ctx, select(Account.id).where(Account.system_key == "cash_iqd"))
    r = await client.patch(
        f"/api/accounts/{cash}", json={"is_active": False}, headers=await auth.headers(ACC)
    )
    assert_error(r, 409, "ACCOUNT_HAS_BALANCE")
    assert await scalar(ctx, select(Account.is_active).where(Account.id == cash)) is True
