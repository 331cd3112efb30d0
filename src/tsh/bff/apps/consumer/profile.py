"""Consumer profile (CON-16 … CON-20)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tsh.bff.apps.consumer.common import CONSUMER, app, customer_id
from tsh.bff.apps.consumer.views import ConAccountClosed, ConPasswordChanged, ConProfile, ConPushToken
from tsh.bff.call import Call
from tsh.bff.schemas import Body, Phone, Text
from tsh.domain.customers import consumer
from tsh.domain.sales import consumer_account


class ProfileChanges(Body):
    name: Text | None = None
    phone: Phone | None = None
    language: Literal["ar", "en"] | None = None
    marketing_opt_in: bool | None = None


class PasswordChange(Body):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=256)


class PushToken(Body):
    token: str = Field(min_length=1, max_length=512)
    platform: Literal["android", "ios"]


class Closure(Body):
    password: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=500)


async def _profile(call: Call) -> dict[str, Any]:
    return await consumer_account.profile(call.session, user_id=call.user_id, customer_id=customer_id(call))


@app.screen(
    "CON-16",
    "/profile",
    roles=CONSUMER,
    scope="own",
    cache="customers",
    events=("CustomerChanged", "UserChanged", "OrderCreated", "OrderChanged", "ReviewChanged"),
    errors=("CUSTOMER_PROFILE_MISSING",),
    response=ConProfile,
)
async def profile(call: Call) -> dict[str, Any]:
    """Profile: contact data, preferences, default address, member since, order and review counts."""
    return await _profile(call)


@app.action(
    "CON-17",
    "PATCH",
    "/profile",
    roles=CONSUMER,
    scope="own",
    events=("CustomerChanged", "UserChanged"),
    audit_entity="customer",
    errors=("PHONE_TAKEN",),
    response=ConProfile,
)
async def update_profile(call: Call, *, body: ProfileChanges) -> dict[str, Any]:
    """Updates own contact data and preferences."""
    cid = customer_id(call)
    await consumer.update_profile(
        call.session, user_id=call.user_id, customer_id=cid, changes=body.model_dump(exclude_unset=True)
    )
    call.audit("customer", cid, after=body.model_dump(exclude_unset=True))
    return await _profile(call)


@app.action(
    "CON-18",
    "PUT",
    "/profile/password",
    roles=CONSUMER,
    scope="own",
    events=("UserChanged", "SessionChanged"),
    audit_entity="user",
    errors=("WRONG_PASSWORD", "WEAK_PASSWORD"),
    response=ConPasswordChanged,
)
async def change_password(call: Call, *, body: PasswordChange) -> dict[str, Any]:
    """Changes own password and revokes every other session of the user."""
    customer_id(call)
    await consumer.change_password(
        call.session,
        user_id=call.user_id,
        session_id=call.principal.session_id,
        current=body.current_password,
        new=body.new_password,
    )
    call.audit("user", call.user_id)
    return {"password_changed": True}


@app.action(
    "CON-19",
    "PUT",
    "/profile/push-token",
    roles=CONSUMER,
    scope="own",
    audit_entity="session",
    response=ConPushToken,
)
async def push_token(call: Call, *, body: PushToken) -> dict[str, Any]:
    """Registers or replaces the push-notification token of the calling session."""
    customer_id(call)
    await consumer.set_push_token(
        call.session, session_id=call.principal.session_id, token=body.token, platform=body.platform
    )
    call.audit("session", call.principal.session_id)
    return {"session_id": call.principal.session_id, "platform": body.platform, "registered": True}


@app.action(
    "CON-20",
    "POST",
    "/profile/closure",
    roles=CONSUMER,
    scope="own",
    events=("UserChanged", "CustomerChanged", "SessionChanged", "ReviewChanged"),
    audit_entity="customer",
    errors=("WRONG_PASSWORD", "OPEN_ORDERS", "BALANCE_DUE"),
    response=ConAccountClosed,
)
async def close_account(call: Call, *, body: Closure) -> dict[str, Any]:
    """Closes the account: anonymises personal data and disables the user; orders are kept."""
    cid = customer_id(call)
    await consumer_account.close_account(
        call.session, user_id=call.user_id, customer_id=cid, password=body.password, reason=body.reason
    )
    call.audit("customer", cid, after={"status": "closed"})
    return {"closed": True}
