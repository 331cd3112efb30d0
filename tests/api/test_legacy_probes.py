"""Hostile-input probes run against every legacy resource they apply to (issue 18).

Driven by the declaration table `tsh.api.legacy.RESOURCES`: a resource added later is probed
without a line of its own. Bodies are the generated column bodies (or a command's body model),
built as examples by tests/examples.py with one leaf broken at a time; one value per probe and
resource, rotating over the resources. Every probe asserts that no 500 happens and nothing changed.

- path ids `/１`, `/2147483648`, `/0` → 404 on get, update and delete
- id filters (`?customer_id=2147483648`, `?salesperson_id=１`…) and a NUL in a text filter → 422
- a NUL in any string, "1"/true in an integer or id, "true" in a boolean, "NaN"/"Infinity"/"1e300"/
  "abc"/an object in a decimal (credit_limit…) → 422 naming the field, the row unchanged
- an owner field a write accepts (customers' salesperson_id) naming a user outside the caller's
  branch, or one without the owner role → 404, the row unchanged
- a first write refused with 422 is kept for its Idempotency-Key
- /api/auth bodies: a NUL in any string → 422; the §2.1 computed calls: bad ids → 422
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import inspect

from tests.examples import NOT_ISO_DATES, Leaf, example_body, names_field, pick, with_value
from tests.http import Api, demo
from tsh.api.auth import router as auth_router
from tsh.api.legacy import RESOURCES
from tsh.api.legacy.bodies import body_model, python_type, writable_columns
from tsh.api.legacy.resource import Resource

ADMIN = demo("admin")
ALL = list(RESOURCES.values())
GETS = [r for r in ALL if r.ops & {"get", "update", "delete"}]
LISTS = [r for r in ALL if "list" in r.ops and r.filters]
CREATES = [r for r in ALL if "create" in r.ops]
UPDATES = [r for r in ALL if "update" in r.ops]
BAD_PATH_IDS = ("\uff11", "2147483648", "0")
BAD_ID_FILTERS = ("2147483648", "\uff11", "1.0", "-1", "9" * 30)
BAD_VALUES: dict[str, tuple[Any, ...]] = {
    "int": ("1", True),
    "id": ("1", True, 2**31),
    "bool": ("true", 1),
    "money": ("NaN", "Infinity", "1e300", "abc"),
    "decimal": ("NaN", "Infinity", 1e300, "abc", {"amount": 1}, "-Infinity"),
    "date": NOT_ISO_DATES,
}


def paths(resources: list[Resource]) -> list[str]:
    return [r.path for r in resources]


def body_for(res: Resource, op: str) -> type[BaseModel] | None:
    """The model a write of `op` parses its body with (the command's, or the generated one)."""
    if op in res.commands:
        return res.commands[op].body  # type: ignore[index]
    fields = res.writable if res.writable is not None else writable_columns(res.model)
    if op == "create" and res.creatable is not None:
        fields = res.creatable
    return body_model(res.model, tuple(fields), op, res.choices)  # type: ignore[arg-type]


def bad_value(leaf: Leaf, example: Any, index: int) -> Any:
    if leaf.kind == "str":
        text = example if isinstance(example, str) and example else "probe"
        return text[:1] + "\x00" + text[1:]
    return pick(BAD_VALUES[leaf.kind], index)


def leaf_value(body: Any, leaf: Leaf) -> Any:
    for part in leaf.path:
        body = body[part]
    return body


async def call(api: Api, email: str, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
    headers = await api.auth.headers(email)
    if method != "GET":
        headers["Idempotency-Key"] = kw.pop("key", None) or uuid.uuid4().hex
    r = await api.client.request(method, path, json=body, headers=headers, params=kw.pop("params", None))
    assert r.status_code < 500, (method, path, body, r.text)
    return r


async def first_row(api: Api, res: Resource, email: str = ADMIN) -> dict[str, Any] | None:
    r = await call(api, email, "GET", f"/api/{res.path}", params={"limit": 1})
    assert r.status_code == 200, r.text
    rows = r.json()
    return rows[0] if rows else None


async def total(api: Api, res: Resource) -> int:
    r = await call(api, ADMIN, "GET", f"/api/{res.path}", params={"limit": 1})
    return int(r.headers["x-total-count"])


@pytest.mark.parametrize("res", GETS, ids=paths(GETS))
async def test_bad_path_id_is_404(api: Api, res: Resource) -> None:
    bad = pick(BAD_PATH_IDS, GETS.index(res))
    for op, method in (("get", "GET"), ("update", "PATCH"), ("delete", "DELETE")):
        if op in res.ops:
            r = await call(api, ADMIN, method, f"/api/{res.path}/{bad}", {} if op == "update" else None)
            assert (r.status_code, r.json()["error_code"]) == (404, "NOT_FOUND"), (op, bad, r.text)


@pytest.mark.parametrize("res", LISTS, ids=paths(LISTS))
async def test_bad_filters_are_422(api: Api, res: Resource) -> None:
    columns = {a.key: a.columns[0] for a in inspect(res.model).column_attrs}
    index = LISTS.index(res)
    probes: list[tuple[str, str]] = []
    for param, column in res.filters.items():
        col = columns[column]
        if col.foreign_keys or col.primary_key:
            probes.append((param, pick(BAD_ID_FILTERS, index + len(probes))))
        elif python_type(col) is str:
            probes.append((param, "a\x00b"))
    for param, value in probes:
        r = await call(api, ADMIN, "GET", f"/api/{res.path}", params={param: value})
        assert (r.status_code, r.json()["error_code"]) == (422, "VALIDATION_ERROR"), (param, value, r.text)


@pytest.mark.parametrize("res", UPDATES, ids=paths(UPDATES))
async def test_bad_scalars_in_an_update_are_422(api: Api, res: Resource) -> None:
    model = body_for(res, "update")
    row = await first_row(api, res)
    if model is None or row is None:
        pytest.skip(f"{res.path}: no update body or no row to probe")
    body, leaves = example_body(model)
    url = f"/api/{res.path}/{row['id']}"
    before = (await call(api, ADMIN, "GET", url)).json() if "get" in res.ops else None
    index = UPDATES.index(res)
    for i, leaf in enumerate(leaves):
        bad = bad_value(leaf, leaf_value(body, leaf), index + i)
        # A generic update takes any subset: send only the broken field.
        sent = with_value(body, leaf, bad)
        if res.commands.get("update") is None:
            sent = {str(leaf.path[0]): sent[leaf.path[0]]}
        r = await call(api, ADMIN, "PATCH", url, sent)
        assert r.status_code == 422, (res.path, leaf.field, bad, r.text)
        assert names_field(r.json(), leaf), (res.path, leaf.field, bad, r.text)
    if before is not None:
        assert (await call(api, ADMIN, "GET", url)).json() == before, f"{res.path} changed"


@pytest.mark.parametrize("res", CREATES, ids=paths(CREATES))
async def test_bad_scalars_in_a_create_are_422(api: Api, res: Resource) -> None:
    model = body_for(res, "create")
    if model is None:
        pytest.skip(f"{res.path}: the create takes no body")
    body, leaves = example_body(model)
    rows = await total(api, res)
    index = CREATES.index(res)
    for i, leaf in enumerate(leaves):
        bad = bad_value(leaf, leaf_value(body, leaf), index + i)
        r = await call(api, ADMIN, "POST", f"/api/{res.path}", with_value(body, leaf, bad))
        assert r.status_code == 422, (res.path, leaf.field, bad, r.text)
        assert names_field(r.json(), leaf), (res.path, leaf.field, bad, r.text)
    assert await total(api, res) == rows, f"{res.path} stored a row from an invalid body"


@pytest.mark.parametrize("res", CREATES, ids=paths(CREATES))
async def test_first_422_is_kept_for_its_key(api: Api, res: Resource) -> None:
    model = body_for(res, "create")
    body = example_body(model)[0] if model is not None else {}
    invalid = {**body, "probe_unknown_field": 1}
    key, url = uuid.uuid4().hex, f"/api/{res.path}"
    rows = await total(api, res)
    first = await call(api, ADMIN, "POST", url, invalid, key=key)
    assert first.status_code == 422, first.text
    again = await call(api, ADMIN, "POST", url, invalid, key=key)
    assert (again.status_code, again.content) == (422, first.content), again.text
    assert again.headers.get("idempotent-replayed") == "true"
    other = await call(api, ADMIN, "POST", url, body, key=key)
    assert (other.status_code, other.json()["error_code"]) == (422, "IDEMPOTENCY_KEY_REUSED"), other.text
    assert await total(api, res) == rows


OWNED = [
    r
    for r in UPDATES
    if r.access.owner
    and r.access.owner in (r.writable if r.writable is not None else writable_columns(r.model))
    and "branch" in r.write_roles.values()
    and "update" not in r.commands
]


@pytest.mark.parametrize("res", OWNED, ids=paths(OWNED))
async def test_owner_outside_the_write_scope_is_404(api: Api, res: Resource) -> None:
    role = next(role for role, scope in res.write_roles.items() if scope == "branch")
    me = demo(role, 1)
    row = await first_row(api, res, me)
    assert row is not None, f"the seed has no {res.path} row in {me}'s branch"
    owner = res.access.owner
    assert owner is not None
    url = f"/api/{res.path}/{row['id']}"
    before = (await call(api, me, "GET", url)).json()
    strangers = [await api.user_id(demo(res.access.owner_role or role, 2))]  # the other branch
    if res.access.owner_role is not None:
        strangers.append(await api.user_id(me))  # in the branch, without the owner role
    for stranger in strangers:
        r = await call(api, me, "PATCH", url, {owner: stranger})
        assert r.status_code == 404, (res.path, stranger, r.text)
        assert r.json()["error_code"] == res.access.owner_code
    assert (await call(api, me, "GET", url)).json() == before
    if before.get(owner) is not None:  # the owner it has is still accepted
        r = await call(api, me, "PATCH", url, {owner: before[owner]})
        assert r.status_code == 200, r.text


# The /api/auth bodies are parsed by FastAPI itself: the NUL rule reaches them through their base.
AUTH_ROUTES = [
    (route.path, route.body_field.field_info.annotation)
    for route in auth_router.routes
    if isinstance(route, APIRoute)
    and route.body_field is not None
    and isinstance(route.body_field.field_info.annotation, type)
]


@pytest.mark.parametrize(("path", "model"), AUTH_ROUTES, ids=[p for p, _ in AUTH_ROUTES])
async def test_nul_in_an_auth_body_is_422(api: Api, path: str, model: type[BaseModel]) -> None:
    body, leaves = example_body(model)
    for leaf in (leaf for leaf in leaves if leaf.kind == "str"):
        r = await api.client.post(
            path, json=with_value(body, leaf, bad_value(leaf, leaf_value(body, leaf), 0))
        )
        assert (r.status_code, r.json()["error_code"]) == (422, "VALIDATION_ERROR"), (
            path,
            leaf.field,
            r.text,
        )
        assert names_field(r.json(), leaf), (path, leaf.field, r.text)


@pytest.mark.parametrize(
    ("path", "param"), [("/api/orders/stats", "user_id"), ("/api/products/top-selling", "branch_id")]
)
async def test_bad_ids_in_the_computed_calls_are_422(api: Api, path: str, param: str) -> None:
    for bad in BAD_ID_FILTERS:
        r = await call(api, ADMIN, "GET", path, params={param: bad})
        assert (r.status_code, r.json()["error_code"]) == (422, "VALIDATION_ERROR"), (param, bad, r.text)


@pytest.mark.parametrize("path", ["/api/orders/stats", "/api/products/top-selling"])
async def test_a_named_route_is_no_record_id(api: Api, path: str) -> None:
    """schemathesis: `PATCH /api/orders/stats` reached the `{id}` route and answered 404; the path
    exists (GET), so the method is what is not allowed."""
    r = await call(api, ADMIN, "PATCH", path, {})
    assert r.status_code == 405, r.text
    assert r.headers["allow"] == "GET"
    assert (await call(api, ADMIN, "GET", path)).status_code not in (404, 405)
