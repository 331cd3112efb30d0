"""ACC-23 tax codes, ACC-29/30 exchange rates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from tests.bff.accounting.conftest import ACCOUNTANT, BM1, Books
from tsh.domain.accounting.models import ExchangeRate, TaxRate
from tsh.domain.catalog.models import Product


async def test_tax_codes_list_every_version_with_product_counts(books: Books) -> None:
    data = await books.acc.data(ACCOUNTANT, "/tax-rates")
    assert len(data["items"]) == await books.api.count(TaxRate)
    codes = [t["code"] for t in data["items"]]
    assert codes == sorted(codes)
    async with books.api.db() as s:
        counts = dict(
            (
                await s.execute(
                    select(TaxRate.code, func.count(Product.id))
                    .join(Product, Product.tax_rate_id == TaxRate.id)
                    .group_by(TaxRate.code)
                )
            ).all()
        )
    for t in data["items"]:
        assert t["product_count"] == counts.get(t["code"], 0)
    assert sum(counts.values()) > 0
    assert (await books.acc.get(ACCOUNTANT, "/tax-rates")).json()["metadata"]["cached"] is True
    assert (await books.acc.get(BM1, "/tax-rates")).status_code == 403


async def test_exchange_rates_history_and_setting_a_rate(books: Books) -> None:
    data = await books.acc.data(ACCOUNTANT, "/exchange-rates")
    current = Decimal(data["current"]["rate"])
    assert data["items"], "the seed sets rates within the last 90 days"
    moments = [r["effective_from"] for r in data["items"]]
    assert moments == sorted(moments, reverse=True)
    # Future moments, so the rest of the suite keeps today's rate.
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=20)
    window = {"from": (at - dt.timedelta(days=1)).isoformat(), "to": (at + dt.timedelta(days=2)).isoformat()}
    listed = (await books.acc.get(ACCOUNTANT, "/exchange-rates", **window)).json()
    assert listed["data"]["items"] == []
    count = await books.api.count(ExchangeRate)
    far = {"rate": str((current * Decimal("1.2")).quantize(Decimal("1"))), "effective_from": at.isoformat()}
    r = await books.acc.send(ACCOUNTANT, "POST", "/exchange-rates", far)
    assert r.status_code == 422 and r.json()["error_code"] == "RATE_OUT_OF_BAND"
    assert await books.api.count(ExchangeRate) == count
    near = {"rate": str(current + 5), "effective_from": at.isoformat()}
    r = await books.acc.send(ACCOUNTANT, "POST", "/exchange-rates", near)
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    assert created["set_by"]["id"] == await books.api.user_id(ACCOUNTANT)
    r = await books.acc.send(ACCOUNTANT, "POST", "/exchange-rates", near)
    assert r.status_code == 409 and r.json()["error_code"] == "DUPLICATE"
    confirmed = {**far, "effective_from": (at + dt.timedelta(hours=1)).isoformat(), "confirm": True}
    r = await books.acc.send(ACCOUNTANT, "POST", "/exchange-rates", confirmed)
    assert r.status_code == 201, r.text
    fresh = (await books.acc.get(ACCOUNTANT, "/exchange-rates", **window)).json()
    assert fresh["metadata"]["cached"] is False
    assert [i["id"] for i in fresh["data"]["items"]] == [r.json()["data"]["id"], created["id"]]
    assert Decimal(fresh["data"]["current"]["rate"]) == current
    assert (await books.acc.send(ACCOUNTANT, "POST", "/exchange-rates", {"rate": "-1"})).status_code == 422
    assert (await books.acc.send(ACCOUNTANT, "POST", "/exchange-rates", {"rate": 1500.5})).status_code == 422
