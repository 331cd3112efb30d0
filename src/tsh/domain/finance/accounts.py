"""Chart of accounts maintenance (ACC-04 add, ACC-05 rename / move / deactivate).

The tree stays consistent: children only under non-postable (header) accounts of the same type,
and an account's code, type and postable flag are frozen once it has journal lines (the ledger
and every report read them). Deactivation needs a zero balance, children included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.domain.accounting.models import Account, JournalLine
from tsh.domain.actor import Actor
from tsh.domain.events import raise_event
from tsh.domain.finance.queries import ZERO, dec, load_chart
from tsh.platform.errors import Conflict, Invalid, NotFound, field_error


@dataclass(frozen=True)
class NewAccount:
    code: str
    name_ar: str
    name_en: str
    type: str
    parent_id: int
    is_postable: bool
    currency: str | None
    cash_flow_class: str | None


async def _parent(session: AsyncSession, parent_id: int, account_type: str) -> Account:
    parent = await session.get(Account, parent_id)
    if parent is None:
        raise NotFound(
            "Parent account not found",
            code="ACCOUNT_NOT_FOUND",
            details=[field_error("parent_id", "not found")],
        )
    if parent.is_postable:
        raise Invalid(
            "Children go only under non-postable accounts",
            code="PARENT_POSTABLE",
            details=[field_error("parent_id", "postable account", account_id=parent.id)],
        )
    if parent.type != account_type:
        raise Invalid(
            f"The parent is a {parent.type} account",
            code="TYPE_MISMATCH",
            details=[field_error("type", "differs from the parent's", parent_type=parent.type)],
        )
    return parent


async def _code_free(session: AsyncSession, code: str, except_id: int | None = None) -> None:
    taken = await session.scalar(select(Account.id).where(Account.code == code))
    if taken is not None and taken != except_id:
        raise Conflict(
            "Another account has this code",
            code="ACCOUNT_CODE_TAKEN",
            details=[field_error("code", "taken", account_id=taken)],
        )


async def create_account(session: AsyncSession, actor: Actor, *, new: NewAccount) -> Account:
    """Add an account under a header. 409 ACCOUNT_CODE_TAKEN; 404 ACCOUNT_NOT_FOUND (parent);
    422 PARENT_POSTABLE; 422 TYPE_MISMATCH. Emits LedgerSetupChanged. Never commits."""
    await _code_free(session, new.code)
    await _parent(session, new.parent_id, new.type)
    account = Account(
        code=new.code,
        name_ar=new.name_ar,
        name_en=new.name_en,
        type=new.type,
        parent_id=new.parent_id,
        is_postable=new.is_postable,
        currency=new.currency,
        cash_flow_class=new.cash_flow_class,
        is_active=True,
    )
    session.add(account)
    await session.flush()
    raise_event(session, "LedgerSetupChanged", everyone=True, account_id=account.id)
    return account


FROZEN_ONCE_USED = ("code", "type", "is_postable")


async def update_account(
    session: AsyncSession, actor: Actor, *, account_id: int, changes: dict[str, Any]
) -> tuple[Account, dict[str, Any]]:
    """Apply `changes` (only the fields sent); returns the account and the values before.

    404 ACCOUNT_NOT_FOUND; 422 FIELD_NOT_EDITABLE (code, type or postable flag of an account with
    lines); 409 ACCOUNT_CODE_TAKEN; 422 PARENT_POSTABLE / TYPE_MISMATCH for a move, 422
    VALIDATION_ERROR for a move under itself or a descendant; 422 PARENT_POSTABLE when a header
    with children would become postable; 409 ACCOUNT_HAS_BALANCE when deactivating with a
    non-zero balance (its children's included). Emits LedgerSetupChanged. Never commits.
    """
    account = await session.scalar(select(Account).where(Account.id == account_id).with_for_update())
    if account is None:
        raise NotFound("Account not found", code="ACCOUNT_NOT_FOUND")
    before = {k: getattr(account, k) for k in changes}
    changing = {k: v for k, v in changes.items() if getattr(account, k) != v}
    frozen = [k for k in FROZEN_ONCE_USED if k in changing]
    if frozen:
        used = await session.scalar(
            select(JournalLine.id).where(JournalLine.account_id == account.id).limit(1)
        )
        if used is not None:
            raise Invalid(
                "Code, type and postable flag cannot change once the account has lines",
                code="FIELD_NOT_EDITABLE",
                details=[field_error(k, "not editable: the account has journal lines") for k in frozen],
            )
    if "code" in changing:
        await _code_free(session, changing["code"], account.id)
    chart = await load_chart(session)
    new_type = changing.get("type", account.type)
    if "parent_id" in changing or "type" in changing:
        parent_id = changing.get("parent_id", account.parent_id)
        if parent_id is None:
            raise Invalid(details=[field_error("parent_id", "a root account cannot be added or moved")])
        if parent_id in chart.descendants(account.id):
            raise Invalid(details=[field_error("parent_id", "under itself or one of its descendants")])
        await _parent(session, parent_id, new_type)
        if "type" in changing and chart.children.get(account.id):
            raise Invalid(
                "An account with children keeps its type",
                code="TYPE_MISMATCH",
                details=[field_error("type", "the account has children")],
            )
    if changing.get("is_postable") and chart.children.get(account.id):
        raise Invalid(
            "A header with children cannot take postings",
            code="PARENT_POSTABLE",
            details=[field_error("is_postable", "the account has children")],
        )
    if changing.get("is_active") is False:
        ids = chart.descendants(account.id)
        row = (
            await session.execute(
                select(func.sum(JournalLine.base_debit), func.sum(JournalLine.base_credit)).where(
                    JournalLine.account_id.in_(ids)
                )
            )
        ).one()
        balance = dec(row[0]) - dec(row[1])
        if balance != ZERO:
            raise Conflict(
                "The account has a balance",
                code="ACCOUNT_HAS_BALANCE",
                details=[field_error("is_active", "non-zero balance", balance=str(balance))],
            )
    for key, value in changing.items():
        setattr(account, key, value)
    await session.flush()
    if changing:
        raise_event(session, "LedgerSetupChanged", everyone=True, account_id=account.id)
    return account, before
