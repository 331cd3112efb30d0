"""WHO-17 account statement with running balance."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tsh.bff.apps.wholesale import CLIENT, app
from tsh.bff.apps.wholesale.views import Statement
from tsh.bff.call import Call
from tsh.bff.schemas import DateIn, Page, decode_cursor, encode_cursor
from tsh.domain.wholesale.statement import account_statement


class StatementQuery(Page):
    date_from: DateIn = Field(alias="from")
    date_to: DateIn = Field(alias="to")


@app.screen(
    "WHO-17",
    "/statement",
    roles=CLIENT,
    scope="own",
    cache="financial",
    events=("InvoiceIssued", "PaymentReceived", "RefundIssued", "CreditChanged"),
    errors=("ACCOUNT_MISSING", "RANGE_TOO_LONG"),
    response=Statement,
)
async def statement(call: Call, *, query: StatementQuery) -> dict[str, Any]:
    """Account statement: opening balance, documents with running balance, closing balance."""
    data = await account_statement(
        call.session,
        call.actor,
        date_from=query.date_from,
        date_to=query.date_to,
        limit=query.limit,
        after=decode_cursor(query.cursor),
    )
    position = data.pop("next_position")
    return {**data, "next_cursor": encode_cursor(position) if position else None}
