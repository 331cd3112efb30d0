"""Hostile-input probes run against every registered BFF endpoint they apply to (issue 18).

Driven by `tsh.bff.spec.REGISTRY` after `load_apps()`: an endpoint added later is probed without a
line of its own. Bodies are built from the body model (tests/examples.py) and one leaf is broken
at a time. Each probe tries one value per endpoint (rotating over the endpoints, so every value is
tried somewhere) on the one seeded database, and asserts the answer, that no 500 happens and, for
actions, that nothing ran (no audit row of the endpoint appeared).

- path ids `/１`, `/2147483648`, `/0` → 404 NOT_FOUND
- a cursor from another list, or from the same list with other filters → 422 VALIDATION_ERROR
  (and the list's own next_cursor still pages → 200)
- a NUL in any string field, "1"/true in an integer, "1"/true/2^31 in an id, "true" in a boolean,
  "NaN"/"Infinity"/"1e300"/"abc" in an amount → 422 naming the field
- in a query: ids `2147483648`/`１`/`1.0`, non-integers, a NUL in text → 422 naming the parameter
- a date or time that is not ISO 8601 text (`0`, `1700000000`) → 422, in a body and in a query
- a first request refused with 422 is the answer kept for its Idempotency-Key: same body → replay,
  another body → 422 IDEMPOTENCY_KEY_REUSED
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx2 as httpx
import pytest
from pydantic import BaseModel

from tests.examples import NOT_ISO_DATES, Leaf, example_body, names_field, pick, with_value
from tests.http import Api, demo
from tsh.bff.schemas import cursor_list, encode_cursor
from tsh.bff.spec import REGISTRY, EndpointSpec
from tsh.domain.identity.models import AuditLog
from tsh.main import load_apps

load_apps()
SPECS = [s for s in REGISTRY if s.app != "probe"]  # tests/probe_app.py answers 500 on purpose
WITH_PATH_ID = [s for s in SPECS if s.path_params]
LISTS = [s for s in SPECS if s.kind == "screen" and s.query_model and "cursor" in s.query_model.model_fields]
WITH_BODY = [s for s in SPECS if s.body_model is not None]
WITH_QUERY = [s for s in SPECS if s.query_model is not None]
# The demo role a probe calls as: the first of these that the endpoint allows.
ROLE_ORDER = ("salesperson", "cashier", "consumer", "branch_manager", "accountant")
BAD_PATH_IDS = ("\uff11", "2147483648", "0")
BAD_VALUES: dict[str, tuple[Any, ...]] = {
    "str": (),  # filled per leaf: its example with a NUL inside
    "int": ("1", True),
    "id": ("1", True, 2**31),
    "bool": ("true", 1),
    "money": ("NaN", "Infinity", "1e300", "abc"),
    "decimal": ("NaN", "Infinity", "1e300", "abc"),
    "date": NOT_ISO_DATES,
}
# Query strings are text: the same rules, as a client would put them in a URL.
BAD_QUERY: dict[str, tuple[str, ...]] = {
    "id": ("2147483648", "\uff11", "1.0", "+1", "0"),
    "int": ("1.5", "abc", "9" * 30),
    "decimal": ("NaN", "Infinity", "1e300", "abc"),
    "bool": ("maybe",),
    "date": NOT_ISO_DATES,
}


def ids(specs: list[EndpointSpec]) -> list[str]:
    return [s.id for s in specs]


def caller(spec: EndpointSpec) -> str:
    role = next((r for r in ROLE_ORDER if r in spec.roles), "admin")
    return demo(role)


def url(spec: EndpointSpec, **path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: path.get(m.group(1), "1"), spec.path)


def example_query(model: type[BaseModel] | None) -> dict[str, Any]:
    """The query's required parameters with example values (query strings are text)."""
    if model is None:
        return {}
    body, _ = example_body(model)
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    aliases = {n: (f.alias or n) for n, f in model.model_fields.items()}
    return {aliases[n]: ("true" if v is True else str(v)) for n, v in body.items() if n in required}


async def audit_rows(api: Api, spec: EndpointSpec) -> int:
    return await api.count(AuditLog, AuditLog.action == spec.id)


async def send(
    api: Api, spec: EndpointSpec, path: str, body: Any, *, key: str | None = None
) -> httpx.Response:
    headers = await api.auth.headers(caller(spec))
    if spec.kind == "action":
        headers["Idempotency-Key"] = key or uuid.uuid4().hex
    params = example_query(spec.query_model)
    r = await api.client.request(spec.method, path, json=body, params=params, headers=headers)
    assert r.status_code < 500, (spec.id, path, body, r.text)
    return r


def error_code(r: httpx.Response) -> str:
    return str(r.json().get("error_code"))


@pytest.mark.parametrize("spec", WITH_PATH_ID, ids=ids(WITH_PATH_ID))
async def test_bad_path_id_is_404(api: Api, spec: EndpointSpec) -> None:
    bad = pick(BAD_PATH_IDS, WITH_PATH_ID.index(spec))
    body = example_body(spec.body_model)[0] if spec.body_model else None
    before = await audit_rows(api, spec)
    for name in spec.path_params:
        r = await send(api, spec, url(spec, **{name: bad}), body)
        assert (r.status_code, error_code(r)) == (404, "NOT_FOUND"), (spec.id, name, bad, r.text)
    assert await audit_rows(api, spec) == before


@pytest.mark.parametrize("spec", LISTS, ids=ids(LISTS))
async def test_cursor_is_bound_to_its_list_and_filters(api: Api, spec: EndpointSpec) -> None:
    headers = await api.auth.headers(caller(spec))
    params = example_query(spec.query_model)
    first = await api.client.get(url(spec), params={**params, "limit": 1}, headers=headers)
    assert first.status_code < 500, first.text
    own = first.json()["data"].get("next_cursor") if first.status_code == 200 else None
    if own is not None:  # the list's own cursor still pages
        r = await api.client.get(url(spec), params={**params, "limit": 1, "cursor": own}, headers=headers)
        assert r.status_code == 200, (spec.id, r.text)
    others = [s for s in LISTS if s.id != spec.id]
    donor = pick(tuple(others), LISTS.index(spec)) if others else None
    foreign: list[str] = []
    if donor is not None:  # a cursor as the other list issues it
        donor_headers = await api.auth.headers(caller(donor))
        d = await api.client.get(
            url(donor), params={**example_query(donor.query_model), "limit": 1}, headers=donor_headers
        )
        issued = d.json()["data"].get("next_cursor") if d.status_code == 200 else None
        if issued is not None:
            foreign.append(issued)
        with cursor_list(donor.id, {}):
            foreign.append(encode_cursor({"id": 1}))
    with cursor_list(spec.id, {"query": {"probe": "other filters"}}):
        foreign.append(encode_cursor({"id": 1}))
    foreign.append("not-a-cursor")
    for cursor in foreign:
        r = await api.client.get(url(spec), params={**params, "cursor": cursor}, headers=headers)
        assert (r.status_code, error_code(r)) == (422, "VALIDATION_ERROR"), (spec.id, cursor, r.text)


def _bad_value(leaf: Leaf, example: Any, index: int) -> Any:
    if leaf.kind == "str":
        text = example if isinstance(example, str) and example else "probe"
        return text[:1] + "\x00" + text[1:]
    return pick(BAD_VALUES[leaf.kind], index)


def _leaf_value(body: Any, leaf: Leaf) -> Any:
    for part in leaf.path:
        body = body[part]
    return body


@pytest.mark.parametrize("spec", WITH_BODY, ids=ids(WITH_BODY))
async def test_bad_scalars_in_the_body_are_422(api: Api, spec: EndpointSpec) -> None:
    assert spec.body_model is not None
    body, leaves = example_body(spec.body_model)
    before = await audit_rows(api, spec)
    index = WITH_BODY.index(spec)
    for i, leaf in enumerate(leaves):
        bad = _bad_value(leaf, _leaf_value(body, leaf), index + i)
        r = await send(api, spec, url(spec), with_value(body, leaf, bad))
        assert r.status_code == 422, (spec.id, leaf.field, bad, r.text)
        assert names_field(r.json(), leaf), (spec.id, leaf.field, bad, r.text)
        if leaf.kind == "str":
            assert error_code(r) == "VALIDATION_ERROR", r.text
    assert await audit_rows(api, spec) == before, f"{spec.id} ran on an invalid body"


@pytest.mark.parametrize("spec", WITH_QUERY, ids=ids(WITH_QUERY))
async def test_bad_query_parameters_are_422(api: Api, spec: EndpointSpec) -> None:
    assert spec.query_model is not None
    _, leaves = example_body(spec.query_model)
    headers = await api.auth.headers(caller(spec))
    base = example_query(spec.query_model)
    before = await audit_rows(api, spec)
    index = WITH_QUERY.index(spec)
    for i, leaf in enumerate(leaves):
        name = str(leaf.path[0])
        bad = "a\x00b" if leaf.kind == "str" else pick(BAD_QUERY.get(leaf.kind, ("x",)), index + i)
        if spec.kind == "action":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        r = await api.client.request(spec.method, url(spec), params={**base, name: bad}, headers=headers)
        assert r.status_code == 422, (spec.id, name, bad, r.text)
        assert error_code(r) == "VALIDATION_ERROR" and names_field(r.json(), leaf), (spec.id, name, r.text)
    assert await audit_rows(api, spec) == before


@pytest.mark.parametrize("spec", WITH_BODY, ids=ids(WITH_BODY))
async def test_first_422_is_kept_for_its_key(api: Api, spec: EndpointSpec) -> None:
    assert spec.body_model is not None
    body, _ = example_body(spec.body_model)
    invalid = {**body, "probe_unknown_field": 1}
    key = uuid.uuid4().hex
    before = await audit_rows(api, spec)
    first = await send(api, spec, url(spec), invalid, key=key)
    assert first.status_code == 422, (spec.id, first.text)
    again = await send(api, spec, url(spec), invalid, key=key)
    assert (again.status_code, again.content) == (422, first.content), (spec.id, again.text)
    assert again.headers.get("idempotent-replayed") == "true"
    other = await send(api, spec, url(spec), body, key=key)
    assert (other.status_code, error_code(other)) == (422, "IDEMPOTENCY_KEY_REUSED"), (spec.id, other.text)
    assert await audit_rows(api, spec) == before, f"{spec.id} ran under a key kept for a 422"
