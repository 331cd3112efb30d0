"""Helpers shared by the consumer screens: the caller's customer, the serving branch (resolved
once per request and part of the catalogue cache keys), product cards and paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tsh.bff.call import Call, scope_marker
from tsh.bff.schemas import decode_cursor, encode_cursor
from tsh.bff.spec import BffApp
from tsh.domain.catalog.queries import Serving, product_cards, serving_branch
from tsh.platform.cache.tags import entry_tags
from tsh.platform.cache.values import cached_value
from tsh.platform.db.base import utcnow
from tsh.platform.errors import NotFound

app = BffApp("consumer")

CONSUMER = ("consumer",)
CATALOG_EVENTS = ("ProductChanged", "PriceChanged", "StockChanged", "ReviewChanged")
_SERVING = "tsh_consumer_serving"


def customer_id(call: Call) -> int:
    """The caller's Customer (User.customer_id); 404 CUSTOMER_PROFILE_MISSING without one."""
    cid = call.principal.customer_id
    if cid is None:
        raise NotFound("This account has no customer profile", code="CUSTOMER_PROFILE_MISSING")
    return cid


def language(call: Call) -> str:
    return "ar" if call.principal.language == "ar" else "en"


def now() -> datetime:
    return utcnow()


async def serving(call: Call, branch_id: int | None = None) -> Serving:
    """The serving branch of this request: `branch_id`, else the default address's zone branch,
    else the company default branch (memoised on the request's session)."""
    memo: dict[int | None, Serving] = call.session.info.setdefault(_SERVING, {})
    if branch_id not in memo:
        memo[branch_id] = await serving_branch(
            call.session, branch_id=branch_id, customer_id=call.principal.customer_id
        )
    return memo[branch_id]


SERVING_TTL_S = 300
SERVING_EVENTS = ("CustomerChanged", "BranchChanged")


async def serving_branch_key(call: Call, **kwargs: Any) -> str:
    """Cache-key part of catalogue screens: the RESOLVED serving branch, never the raw parameter.

    Runs before every catalogue hit, so the resolution itself is cached per customer and
    parameter, dropped by CustomerChanged (addresses) and BranchChanged (zones, branches).
    """
    query = kwargs.get("query")
    branch_param = getattr(query, "branch_id", None)
    customer = call.principal.customer_id

    async def resolve() -> str:
        return str((await serving(call, branch_param)).branch_id)

    branch = await cached_value(
        call.ctx.cache,
        f"serving:{customer}:{branch_param}",
        ttl_s=SERVING_TTL_S,
        tags=entry_tags(SERVING_EVENTS, scope_marker(call.principal, "own")),
        compute=resolve,
    )
    return f"branch={branch}"


async def cards(
    call: Call, ids: list[int], where: Serving, *, include_inactive: bool = False
) -> list[dict[str, Any]]:
    return await product_cards(
        call.session, ids, serving=where, language=language(call), at=now(), include_inactive=include_inactive
    )


def next_cursor(position: dict[str, Any] | None) -> str | None:
    return encode_cursor(position) if position is not None else None


def cursor_position(cursor: str | None) -> dict[str, Any] | None:
    return decode_cursor(cursor)
