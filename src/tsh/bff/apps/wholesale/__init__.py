"""Wholesale app (apps/wholesale.md, WHO-01..18): shops and resellers buying in cartons on credit or
prepaid terms in their account currency.

Every endpoint is `own` for wholesale_client (the customer linked to the user, shared by the
account's users) and `all` for admin; the services in `tsh.domain.wholesale` resolve the account
(404 ACCOUNT_MISSING) and apply the rules.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp

app = BffApp("wholesale")
CLIENT = ("wholesale_client",)

from tsh.bff.apps.wholesale import account, cart, catalog, documents, payments, reports, statement  # noqa: E402  (the modules register on `app`)

__all__ = ["CLIENT", "account", "app", "cart", "catalog", "documents", "payments", "reports", "statement"]
