"""Helpers of the POS-app tests: requests as demo users, test-owned shifts, product picks, DB reads.

Every test opens the shifts it needs (closing any leftover first) and closes them at the end, so
the shared demo data stays valid whatever the order the tests run in.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Auth
from tsh.context import AppContext
from tsh.domain.accounting import posting
from tsh.domain.accounting.models import JournalEntry
from tsh.domain.aftersales.models import Refund, Warranty
from tsh.domain.catalog.models import PriceList, PriceListItem, Product
from tsh.domain.identity.models import User
from tsh.domain.inventory.models import StockLevel, StockMovement
from tsh.domain.inventory.stock import stock_invariant_violations
from tsh.domain.pos.models import CashMovement, PosLine, PosTender, PosTerminal, PosTransaction, Shift

BASE = "/api/bff/mobile/pos"
CASHIER1, CASHIER2 = "cashier1@demo.tsh.iq", "cashier2@demo.tsh.iq"
BM1, BM2 = "branch_manager1@demo.tsh.iq", "branch_manager2@demo.tsh.iq"
ACCOUNTANT, ADMIN = "accountant1@demo.tsh.iq", "admin1@demo.tsh.iq"
SALESPERSON, CONSUMER = "salesperson1@demo.tsh.iq", "consumer1@demo.tsh.iq"
# cashier1 / branch_manager1 work in Baghdad (BGD), cashier2 / branch_manager2 in Basra (BSR).
TERMINAL_OF = {CASHIER1: "BGD-POS-1", BM1: "BGD-POS-2", CASHIER2: "BSR-POS-1", ADMIN: "BGD-POS-2"}


def iqd(amount: Decimal | int | str) -> dict[str, str]:
    return {"amount": str(Decimal(amount).quantize(Decimal("0.01"))), "currency": "IQD"}


def usd(amount: Decimal | int | str) -> dict[str, str]:
    return {"amount": str(Decimal(amount).quantize(Decimal("0.01"))), "currency": "USD"}


def amount(money: dict[str, str]) -> Decimal:
    return Decimal(money["amount"])


class Pos:
    def __init__(self, client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> None:
        self.client, self.auth, self.ctx = client, auth, ctx
        self._ids: dict[str, int] = {}

    # -- HTTP ---------------------------------------------------------------------------

    async def get(self, email: str, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(BASE + path, params=params, headers=await self.auth.headers(email))

    async def data(self, email: str, path: str, **params: Any) -> Any:
        r = await self.get(email, path, **params)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    async def send(
        self,
        email: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = "new",
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        extra = {} if key is None else {"Idempotency-Key": uuid.uuid4().hex if key == "new" else key}
        headers = await self.auth.headers(email, **extra)
        return await self.client.request(method, BASE + path, json=body, params=params, headers=headers)

    # -- database -----------------------------------------------------------------------

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        async with self.ctx.db.session() as s:
            yield s

    async def user_id(self, email: str) -> int:
        if email not in self._ids:
            async with self.db() as s:
                self._ids[email] = (await s.execute(select(User.id).where(User.email == email))).scalar_one()
        return self._ids[email]

    async def terminal(self, code: str) -> PosTerminal:
        async with self.db() as s:
            return (await s.execute(select(PosTerminal).where(PosTerminal.code == code))).scalar_one()

    async def drawer(self, shift_id: int) -> dict[str, Decimal]:
        async with self.db() as s:
            rows = await s.execute(
                select(CashMovement.currency, func.sum(CashMovement.amount))
                .where(CashMovement.shift_id == shift_id)
                .group_by(CashMovement.currency)
            )
            out = {"IQD": Decimal("0"), "USD": Decimal("0")}
            out.update({c: Decimal(a).quantize(Decimal("0.01")) for c, a in rows})
            return out

    async def available(self, product_id: int, warehouse_id: int) -> int:
        async with self.db() as s:
            row = (
                await s.execute(
                    select(StockLevel.on_hand - StockLevel.reserved).where(
                        StockLevel.product_id == product_id, StockLevel.warehouse_id == warehouse_id
                    )
                )
            ).scalar_one_or_none()
            return int(row or 0)

    async def product(
        self, terminal_code: str = "BGD-POS-1", *, serialised: bool = False, min_available: int = 5
    ) -> dict[str, Any]:
        """An active product in the branch POS list with stock in the terminal's warehouse."""
        terminal = await self.terminal(terminal_code)
        async with self.db() as s:
            row = (
                await s.execute(
                    select(Product.id, Product.barcode, StockLevel.on_hand - StockLevel.reserved)
                    .join(StockLevel, StockLevel.product_id == Product.id)
                    .join(PriceListItem, PriceListItem.product_id == Product.id)
                    .join(PriceList, PriceList.id == PriceListItem.price_list_id)
                    .where(
                        StockLevel.warehouse_id == terminal.warehouse_id,
                        StockLevel.on_hand - StockLevel.reserved >= min_available,
                        Product.is_active.is_(True),
                        Product.is_serialised.is_(serialised),
                        PriceList.channel == "pos",
                        PriceList.branch_id == terminal.branch_id,
                        PriceListItem.min_qty == 1,
                        PriceListItem.valid_to.is_(None),
                    )
                    .order_by(StockLevel.on_hand.desc(), Product.id)
                    .limit(1)
                )
            ).one()
        return {
            "id": row[0],
            "barcode": row[1],
            "available": int(row[2]),
            "warehouse_id": terminal.warehouse_id,
        }

    async def snapshot(self) -> dict[str, Any]:
        """Row counts and sums that a rejected command must leave unchanged."""
        async with self.db() as s:

            async def one(stmt: Any) -> Any:
                return (await s.execute(stmt)).scalar_one()

            return {
                "shifts": await one(select(func.count()).select_from(Shift)),
                "open_shifts": await one(
                    select(func.count()).select_from(Shift).where(Shift.status == "open")
                ),
                "cash": await one(select(func.count()).select_from(CashMovement)),
                "cash_sum": await one(select(func.coalesce(func.sum(CashMovement.amount), 0))),
                "sales": await one(select(func.count()).select_from(PosTransaction)),
                "completed": await one(
                    select(func.count())
                    .select_from(PosTransaction)
                    .where(PosTransaction.status == "completed")
                ),
                "lines": await one(select(func.count()).select_from(PosLine)),
                "tenders": await one(select(func.count()).select_from(PosTender)),
                "entries": await one(select(func.count()).select_from(JournalEntry)),
                "movements": await one(select(func.count()).select_from(StockMovement)),
                "on_hand": await one(select(func.coalesce(func.sum(StockLevel.on_hand), 0))),
                "refunds": await one(select(func.count()).select_from(Refund)),
                "warranties": await one(
                    select(func.count()).select_from(Warranty).where(Warranty.status == "active")
                ),
            }

    async def assert_ledger_sound(self) -> None:
        async with self.db() as s:
            assert await posting.trial_balance(s) == 0
            assert await posting.unbalanced_entries(s) == []
            assert await stock_invariant_violations(s) == []

    # -- shifts -------------------------------------------------------------------------

    async def _cleanup(self, email: str, terminal_code: str) -> None:
        """Close a shift left open by an earlier failed test (of this user or on this terminal)."""
        terminal = await self.terminal(terminal_code)
        uid = await self.user_id(email)
        async with self.db() as s:
            stale = list(
                await s.scalars(
                    select(Shift.id).where(
                        Shift.status == "open", (Shift.cashier_id == uid) | (Shift.terminal_id == terminal.id)
                    )
                )
            )
        for shift_id in stale:
            await self.close(ADMIN, shift_id)

    async def open(
        self, email: str, terminal_code: str | None = None, *, float_iqd: int = 500_000, float_usd: int = 0
    ) -> dict[str, Any]:
        code = terminal_code or TERMINAL_OF[email]
        await self._cleanup(email, code)
        terminal = await self.terminal(code)
        floats = [iqd(float_iqd)] + ([usd(float_usd)] if float_usd else [])
        r = await self.send(email, "POST", "/shifts", {"terminal_id": terminal.id, "opening_float": floats})
        assert r.status_code == 201, r.text
        return r.json()["data"]

    async def close(self, email: str, shift_id: int) -> dict[str, Any]:
        """Discard the shift's open sales and close it with counted = expected."""
        async with self.db() as s:
            open_sales = list(
                await s.scalars(
                    select(PosTransaction.id).where(
                        PosTransaction.shift_id == shift_id, PosTransaction.status == "open"
                    )
                )
            )
        for sale_id in open_sales:
            r = await self.send(
                ADMIN, "DELETE", f"/transactions/{sale_id}", params={"reason": "test cleanup"}
            )
            assert r.status_code == 200, r.text
        expected = await self.drawer(shift_id)
        body = {"counted_cash": [iqd(expected["IQD"]), usd(expected["USD"])]}
        r = await self.send(email, "POST", f"/shifts/{shift_id}/closure", body)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    @asynccontextmanager
    async def shift(
        self, email: str, terminal_code: str | None = None, **floats: int
    ) -> AsyncIterator[dict[str, Any]]:
        shift = await self.open(email, terminal_code, **floats)
        try:
            yield shift
        finally:
            async with self.db() as s:
                status = await s.scalar(select(Shift.status).where(Shift.id == shift["id"]))
            if status == "open":
                await self.close(ADMIN, shift["id"])

    # -- sales --------------------------------------------------------------------------

    async def start(self, email: str, **body: Any) -> dict[str, Any]:
        r = await self.send(email, "POST", "/transactions", body, key=None)
        assert r.status_code == 201, r.text
        return r.json()["data"]

    async def sale(self, email: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        """Start a sale and set its lines; returns the priced sale (POS-11 answer)."""
        sale = await self.start(email)
        r = await self.send(
            email, "PUT", f"/transactions/{sale['id']}/lines", {"lines": lines, **extra}, key=None
        )
        assert r.status_code == 200, r.text
        return r.json()["data"]

    async def pay(
        self, email: str, sale: dict[str, Any], tenders: list[dict[str, Any]] | None = None
    ) -> httpx.Response:
        tenders = [{"method": "cash", "amount": sale["total"]}] if tenders is None else tenders
        return await self.send(email, "POST", f"/transactions/{sale['id']}/payments", {"tenders": tenders})

    async def sold(
        self, email: str, lines: list[dict[str, Any]], tenders: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        sale = await self.sale(email, lines)
        r = await self.pay(email, sale, tenders)
        assert r.status_code == 200, r.text
        return r.json()["data"]


@pytest.fixture
def pos(client: httpx.AsyncClient, auth: Auth, ctx: AppContext) -> Pos:
    return Pos(client, auth, ctx)
