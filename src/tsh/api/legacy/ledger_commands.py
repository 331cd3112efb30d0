"""Legacy `accounts` writes through ACC-04 / ACC-05's service (tsh.domain.finance.accounts), so the
chart keeps its rules whichever API changes it: PARENT_POSTABLE, TYPE_MISMATCH,
ACCOUNT_CODE_TAKEN, FIELD_NOT_EDITABLE once an account has lines, ACCOUNT_HAS_BALANCE on
deactivation. The generic table write would have stored any column as sent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from tsh.api.legacy.resource import Command
from tsh.api.legacy.services import Currency, Id, Strict
from tsh.domain.actor import Actor
from tsh.domain.finance import accounts
from tsh.platform.auth.principal import Principal
from tsh.platform.errors import Invalid, field_error

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]
CashFlowClass = Literal["operating", "investing", "financing", "cash"]
Code = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[0-9A-Za-z.\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class NewAccountIn(Strict):
    code: Code
    name_ar: Name
    name_en: Name
    type: AccountType
    parent_id: Id
    is_postable: bool
    currency: Currency | None = None
    cash_flow_class: CashFlowClass | None = None


class AccountPatch(Strict):
    code: Code | None = None
    name_ar: Name | None = None
    name_en: Name | None = None
    type: AccountType | None = None
    parent_id: Id | None = None
    is_postable: bool | None = None
    is_active: bool | None = None
    # These two may be cleared: null means "any currency" / "no cash-flow class".
    currency: Currency | None = None
    cash_flow_class: CashFlowClass | None = None

    @model_validator(mode="after")
    def _no_null_where_required(self) -> AccountPatch:
        cleared = [
            k
            for k in self.model_fields_set
            if getattr(self, k) is None and k not in ("currency", "cash_flow_class")
        ]
        if cleared:
            raise ValueError(f"{', '.join(sorted(cleared))} cannot be null")
        return self


async def create_account(session: AsyncSession, principal: Principal, row: Any, body: NewAccountIn) -> Any:
    return await accounts.create_account(
        session, Actor.of(principal, "all"), new=accounts.NewAccount(**body.model_dump())
    )


async def update_account(session: AsyncSession, principal: Principal, row: Any, body: AccountPatch) -> Any:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid(details=[field_error("body", "no field to change")])
    account, _ = await accounts.update_account(
        session, Actor.of(principal, "all"), account_id=row.id, changes=changes
    )
    return account


ACCOUNT_CREATE = Command(create_account, NewAccountIn)
ACCOUNT_UPDATE = Command(update_account, AccountPatch)
