"""Partner app (apps/partner.md, PAR-01..15): independent agents selling to their own network.

Every endpoint is `own` for partner (the Partner linked to the user) and `all` for admin; the
services resolve the partner (404 PARTNER_PROFILE_MISSING) and apply the rules.
"""

from __future__ import annotations

from tsh.bff.spec import BffApp

app = BffApp("partner")
PARTNER = ("partner",)

from tsh.bff.apps.partner import self_service  # noqa: E402  (the module registers on `app`)

__all__ = ["PARTNER", "app", "self_service"]
