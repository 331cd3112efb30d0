"""The dispatch table finds the same endpoint FastAPI's router would, for every registered row,
and leaves everything else (404, 405, legacy, docs) to the router."""

from __future__ import annotations

import re

from starlette.routing import Match

from tsh.bff.dispatch import BffDispatch
from tsh.bff.spec import REGISTRY
from tsh.main import create_app, load_apps


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "7", path)


def test_every_endpoint_is_found_as_the_router_finds_it() -> None:
    app = create_app()
    table = app.router.middleware_stack
    assert isinstance(table, BffDispatch)
    load_apps()
    for spec in REGISTRY:
        path = _concrete(spec.path)
        found = table._find(spec.method, path)
        assert found is not None, spec.id
        _, route, params = found
        scope = {"type": "http", "method": spec.method, "path": path, "root_path": ""}
        routed = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
        assert routed.name == route.name == spec.id
        assert params == dict.fromkeys(spec.path_params, "7")


def test_what_the_table_does_not_know_goes_to_the_router() -> None:
    table = create_app().router.middleware_stack
    assert isinstance(table, BffDispatch)
    assert table._find("PUT", "/api/bff/mobile/pos/shifts") is None  # 405 from the router
    assert table._find("GET", "/api/bff/mobile/pos/nothing-here") is None
    assert table._find("GET", "/api/bff/mobile/pos/dashboard/") is None
    assert table._find("GET", "/api/orders") is None
