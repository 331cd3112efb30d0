"""Reference rows every database needs before its first command: the 15 roles and their
permissions, the journals, the chart of accounts and the default tax rates.

Idempotent (inserts what is missing, keyed by code), so it serves the data migration and can be
re-run by `tsh migrate` when the catalogue grows. It never removes or edits existing rows:
permission sets edited by an admin stay as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from tsh.domain.accounting.chart import CHART, DEFAULT_TAX_RATES, JOURNALS
from tsh.domain.accounting.models import Account, Journal, TaxRate
from tsh.domain.identity import rbac
from tsh.domain.identity.models import Permission, Role, RolePermission
from tsh.platform.db.base import utcnow


def _stamp(row: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    return {**row, "created_at": now, "updated_at": now}


def _ids_by_code(conn: Connection, model: Any) -> dict[str, int]:
    return {code: id_ for id_, code in conn.execute(select(model.id, model.code))}


def sync_reference_data(conn: Connection) -> None:
    roles = _ids_by_code(conn, Role)
    new_roles = [r for r in rbac.ROLES if r.code not in roles]
    if new_roles:
        conn.execute(
            insert(Role),
            [
                _stamp({"code": r.code, "description": r.description, "default_scope": r.default_scope})
                for r in new_roles
            ],
        )
        roles = _ids_by_code(conn, Role)

    perms = _ids_by_code(conn, Permission)
    new_perms = [p for p in rbac.PERMISSIONS if p.code not in perms]
    if new_perms:
        conn.execute(
            insert(Permission),
            [_stamp({"code": p.code, "module": p.module, "description": p.description}) for p in new_perms],
        )
        perms = _ids_by_code(conn, Permission)
        # Only permissions new to this database are granted by default; existing sets are the admin's.
        grants = [
            _stamp({"role_id": roles[role], "permission_id": perms[p.code]})
            for p in new_perms
            for role, held in rbac.ROLE_PERMISSIONS.items()
            if p.code in held
        ]
        if grants:
            conn.execute(insert(RolePermission), grants)

    journals = _ids_by_code(conn, Journal)
    new_journals = [j for j in JOURNALS if j.code not in journals]
    if new_journals:
        conn.execute(insert(Journal), [_stamp({"code": j.code, "name": j.name}) for j in new_journals])

    accounts = _ids_by_code(conn, Account)
    for spec in CHART:  # parents come before children in CHART
        if spec.code in accounts:
            continue
        result = conn.execute(
            insert(Account).values(
                **_stamp(
                    {
                        "code": spec.code,
                        "name_en": spec.name_en,
                        "name_ar": spec.name_ar,
                        "type": spec.type,
                        "parent_id": accounts.get(spec.parent) if spec.parent else None,
                        "is_postable": spec.is_postable,
                        "currency": spec.currency,
                        "cash_flow_class": spec.cash_flow_class,
                        "system_key": spec.system_key,
                        "is_active": True,
                    }
                )
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        accounts[spec.code] = int(key[0])

    by_key = {spec.system_key: accounts[spec.code] for spec in CHART if spec.system_key}
    existing_rates = {(c, f) for c, f in conn.execute(select(TaxRate.code, TaxRate.effective_from))}
    new_rates = [t for t in DEFAULT_TAX_RATES if (t.code, t.effective_from) not in existing_rates]
    if new_rates:
        conn.execute(
            insert(TaxRate),
            [
                _stamp(
                    {
                        "code": t.code,
                        "name": t.name,
                        "rate": t.rate,
                        "kind": t.kind,
                        "account_id": by_key[t.account_key],
                        "effective_from": t.effective_from,
                        "effective_to": None,
                    }
                )
                for t in new_rates
            ],
        )
