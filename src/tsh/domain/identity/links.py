"""Lightweight Core views of other contexts' tables, so identity imports none of their models.

Only the columns this context reads or writes are declared. Types are given where SQLite needs
them to store a value the way the owning model reads it back (UTC datetimes, money, booleans).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String, column, table

from tsh.platform.db.base import Money, UtcDateTime

employees = table("employees", column("id", Integer), column("user_id", Integer))

technicians = table("technicians", column("id", Integer), column("employee_id", Integer))

branches = table(
    "branches",
    column("id", Integer),
    column("is_default", Boolean),
    column("name_en", String),
    column("name_ar", String),
)

customers = table(
    "customers",
    column("id", Integer),
    column("code", String),
    column("type", String),
    column("name", String),
    column("phone", String),
    column("email", String),
    column("branch_id", Integer),
    column("currency", String),
    column("credit_limit", Money()),
    column("payment_terms_days", Integer),
    column("on_hold", Boolean),
    column("status", String),
    column("marketing_opt_in", Boolean),
    column("version", Integer),
    column("created_at", UtcDateTime()),
    column("updated_at", UtcDateTime()),
)

partners = table("partners", column("id", Integer), column("name", String))

employee_records = table(
    "employees",
    column("id", Integer),
    column("user_id", Integer),
    column("branch_id", Integer),
    column("status", String),
    column("name_en", String),
)
