"""Reference rows the data migrations insert: roles, permissions, the chart, journals, tax rates.

Inserted here only when missing (idempotent), so the seed works before and after those migrations.
Returns the lookups the generators need: role ids, account ids by system key, journal ids, tax rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting import chart
from tsh.domain.accounting.models import Account, Journal, TaxRate
from tsh.domain.identity.models import Permission, Role, RolePermission
from tsh.domain.identity.rbac import PERMISSIONS, ROLE_PERMISSIONS, ROLES


@dataclass(frozen=True, slots=True)
class TaxInfo:
    id: int
    code: str
    rate: Decimal


@dataclass
class Reference:
    role_ids: dict[str, int]
    accounts: dict[str, int]
    account_codes: dict[str, int]
    journals: dict[str, int]
    tax_rates: dict[str, TaxInfo]


async def ensure_reference(session: AsyncSession) -> Reference:
    roles = dict((await session.execute(select(Role.code, Role.id))).tuples().all())
    missing_roles = [r for r in ROLES if r.code not in roles]
    if missing_roles:
        await session.execute(
            insert(Role),
            [
                {"code": r.code, "description": r.description, "default_scope": r.default_scope}
                for r in missing_roles
            ],
        )
        roles = dict((await session.execute(select(Role.code, Role.id))).tuples().all())

    perms = dict((await session.execute(select(Permission.code, Permission.id))).tuples().all())
    missing_perms = [p for p in PERMISSIONS if p.code not in perms]
    if missing_perms:
        await session.execute(
            insert(Permission),
            [{"code": p.code, "module": p.module, "description": p.description} for p in missing_perms],
        )
        perms = dict((await session.execute(select(Permission.code, Permission.id))).tuples().all())

    if not (await session.execute(select(RolePermission.id).limit(1))).first():
        await session.execute(
            insert(RolePermission),
            [
                {"role_id": roles[role], "permission_id": perms[code]}
                for role, codes in ROLE_PERMISSIONS.items()
                for code in sorted(codes)
            ],
        )

    by_code = dict((await session.execute(select(Account.code, Account.id))).tuples().all())
    for spec in chart.CHART:  # parents come first
        if spec.code in by_code:
            continue
        result = await session.execute(
            insert(Account).returning(Account.id),
            {
                "code": spec.code,
                "name_ar": spec.name_ar,
                "name_en": spec.name_en,
                "type": spec.type,
                "parent_id": by_code.get(spec.parent) if spec.parent else None,
                "is_postable": spec.is_postable,
                "currency": spec.currency,
                "cash_flow_class": spec.cash_flow_class,
                "system_key": spec.system_key,
            },
        )
        by_code[spec.code] = int(result.scalar_one())
    keys = {
        k: i
        for k, i in (await session.execute(select(Account.system_key, Account.id))).tuples().all()
        if k is not None
    }

    journals = dict((await session.execute(select(Journal.code, Journal.id))).tuples().all())
    missing_journals = [j for j in chart.JOURNALS if j.code not in journals]
    if missing_journals:
        await session.execute(insert(Journal), [{"code": j.code, "name": j.name} for j in missing_journals])
        journals = dict((await session.execute(select(Journal.code, Journal.id))).tuples().all())

    existing = {
        (c, f) for c, f in (await session.execute(select(TaxRate.code, TaxRate.effective_from))).all()
    }
    missing_tax = [t for t in chart.DEFAULT_TAX_RATES if (t.code, t.effective_from) not in existing]
    if missing_tax:
        await session.execute(
            insert(TaxRate),
            [
                {
                    "code": t.code,
                    "name": t.name,
                    "rate": t.rate,
                    "kind": t.kind,
                    "account_id": keys[t.account_key],
                    "effective_from": t.effective_from,
                    "effective_to": None,
                }
                for t in missing_tax
            ],
        )
    today = date.today()
    taxes: dict[str, TaxInfo] = {}
    rows = await session.execute(
        select(TaxRate.id, TaxRate.code, TaxRate.rate, TaxRate.effective_from, TaxRate.effective_to).order_by(
            TaxRate.effective_from
        )
    )
    for tid, code, rate, start, end in rows.tuples():
        if start <= today and (end is None or end >= today):
            taxes[code] = TaxInfo(int(tid), code, Decimal(rate))
    return Reference(role_ids=roles, accounts=keys, account_codes=by_code, journals=journals, tax_rates=taxes)
