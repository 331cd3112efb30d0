"""Every HR screen answers its declared shape for the roles of the table (seeded data)."""

from __future__ import annotations

import datetime as dt

from tests.bff.hr.conftest import ACC1, BM1, EMP1, HR1, employee_of
from tests.http import Api


async def test_screens_answer(hr: Api) -> None:
    e1 = await employee_of(hr, EMP1)
    today = dt.date.today()
    for email, path, params in [
        (HR1, "/dashboard", {}),
        (BM1, "/dashboard", {}),
        (EMP1, "/me", {}),
        (HR1, "/employees", {}),
        (BM1, "/employees", {}),
        (HR1, f"/employees/{e1.id}", {}),
        (BM1, f"/employees/{e1.id}", {}),
        (EMP1, "/attendance", {"from": str(today - dt.timedelta(days=30)), "to": str(today)}),
        (HR1, "/attendance", {"from": str(today - dt.timedelta(days=7)), "to": str(today)}),
        (BM1, "/attendance/today", {}),
        (HR1, "/attendance/today", {}),
        (EMP1, "/leave-requests", {}),
        (HR1, "/leave-requests", {}),
        (EMP1, "/leave-balances", {}),
        (HR1, "/payroll-runs", {}),
        (ACC1, "/payroll-runs", {}),
        (EMP1, "/payslips", {}),
        (HR1, "/payslips", {}),
        (EMP1, "/reviews", {}),
        (BM1, "/reviews", {}),
        (HR1, "/reviews", {}),
    ]:
        r = await hr.get(email, path, **params)
        assert r.status_code == 200, (email, path, r.text)
    runs = await hr.data(HR1, "/payroll-runs")
    assert runs["items"]
    r = await hr.get(ACC1, f"/payroll-runs/{runs['items'][0]['id']}")
    assert r.status_code == 200, r.text
    slips = await hr.data(EMP1, "/payslips")
    assert slips["items"]
    r = await hr.get(EMP1, f"/payslips/{slips['items'][0]['id']}")
    assert r.status_code == 200, r.text
    reviews = await hr.data(EMP1, "/reviews")
    assert reviews["items"]
    r = await hr.get(EMP1, f"/reviews/{reviews['items'][0]['id']}")
    assert r.status_code == 200, r.text
