"""/api/auth answers match the `data` models the OpenAPI document declares for them
(tsh.api.auth.SUCCESSES), and carry the database's figures."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx
from pydantic import BaseModel
from sqlalchemy import func, select

from tsh.api.auth import SUCCESSES
from tsh.context import AppContext
from tsh.domain.identity.models import Role, User, UserSession

MODELS = {(path, method): (status, model) for path, method, status, model in SUCCESSES}
PASSWORD = "Start1234"


def checked(r: httpx.Response, path: str, method: str) -> dict[str, Any]:
    """The envelope's `data`, after asserting the status and validating it against its model."""
    status, model = MODELS[(path, method)]
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is True and set(body) == {"success", "data", "metadata"}
    parsed: BaseModel = model.model_validate(body["data"])
    assert parsed is not None
    data: dict[str, Any] = body["data"]
    return data


def bearer(data: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {data['access_token']}"}


async def test_every_auth_route_has_a_documented_success(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path, method, status, model in SUCCESSES:
        response = document["paths"][path][method.lower()]["responses"][str(status)]
        data = response["content"]["application/json"]["schema"]["properties"]["data"]
        assert data == {"$ref": f"#/components/schemas/{model.__name__}"}, (path, method)
        assert model.__name__ in document["components"]["schemas"]


async def test_register_login_refresh_me_logout(client: httpx.AsyncClient, ctx: AppContext) -> None:
    tag = uuid.uuid4().hex
    email = f"t-{tag[:12]}@example.test"
    phone = "+9647" + str(int(tag[:12], 16))[-9:].rjust(9, "0")
    body = {"name": "Model Check", "phone": phone, "email": email, "password": PASSWORD, "language": "ar"}
    registered = checked(await client.post("/api/auth/register", json=body), "/api/auth/register", "POST")
    logged_in = checked(
        await client.post("/api/auth/login", json={"email": email, "password": PASSWORD, "app": "consumer"}),
        "/api/auth/login",
        "POST",
    )
    async with ctx.db.session() as s:
        user_id, role = (
            await s.execute(
                select(User.id, Role.code).join(Role, Role.id == User.role_id).where(User.email == email)
            )
        ).one()
    assert (
        registered["user"]
        == logged_in["user"]
        == {
            "id": user_id,
            "name": "Model Check",
            "role": role,
            "branch_id": None,
        }
    )
    rotated = checked(
        await client.post("/api/auth/refresh", json={"refresh_token": logged_in["refresh_token"]}),
        "/api/auth/refresh",
        "POST",
    )
    me = checked(await client.get("/api/auth/me", headers=bearer(rotated)), "/api/auth/me", "GET")
    assert me["user"]["id"] == user_id and me["user"]["email"] == email and me["user"]["language"] == "ar"
    assert me["links"]["customer_id"] is not None and me["session"]["app"] == "consumer"
    out = checked(
        await client.post("/api/auth/logout", json={"all_sessions": True}, headers=bearer(rotated)),
        "/api/auth/logout",
        "POST",
    )
    async with ctx.db.session() as s:
        still_open = await s.scalar(
            select(func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        )
    # Both sessions (register's and login's) were open, and none is left.
    assert out == {"sessions_revoked": 2} and still_open == 0


async def test_password_reset_request_answers_empty(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/auth/password-reset-requests", json={"email": "nobody-at-all@example.test"})
    assert checked(r, "/api/auth/password-reset-requests", "POST") == {}
