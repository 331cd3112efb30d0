"""Routing of BFF requests in constant time, in front of FastAPI's router.

FastAPI tries its routes one by one (the legacy API alone has ~150), so matching was a third of
a cached screen's cost and grew with every endpoint added. This table finds a BFF endpoint by
method and path directly: a dict for paths without parameters, and for the others the few
templates of that method that share the path's app segment. Anything it does not find (404, 405,
trailing slashes, legacy and auth routes, /docs) goes on to FastAPI's router unchanged, so every
answer of the slow path stays the same; only the time to reach a BFF handler changes.

It runs inside FastAPI's exception middleware (installed as the router's own stack), so errors
a handler raises are turned into the envelope exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tsh.bff.spec import BFF_PREFIX, EndpointSpec

Runner = Callable[[Request], Any]


@dataclass(frozen=True, slots=True)
class MatchedRoute:
    """What the metrics middleware reads from `scope["route"]`: the path template."""

    path: str
    name: str


@dataclass(frozen=True, slots=True)
class _Template:
    pattern: re.Pattern[str]
    runner: Runner
    route: MatchedRoute


def _segment(path: str) -> str:
    return path[len(BFF_PREFIX) :].split("/", 2)[1] if path.startswith(BFF_PREFIX + "/") else ""


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(pattern + r"\Z")


class BffDispatch:
    def __init__(self, app: ASGIApp, endpoints: Iterable[tuple[EndpointSpec, Runner]]) -> None:
        self.app = app
        self.static: dict[tuple[str, str], tuple[Runner, MatchedRoute]] = {}
        self.templates: dict[tuple[str, str], list[_Template]] = {}
        for spec, runner in endpoints:
            route = MatchedRoute(spec.path, spec.id)
            if "{" not in spec.path:
                self.static[(spec.method, spec.path)] = (runner, route)
                continue
            bucket = self.templates.setdefault((spec.method, _segment(spec.path)), [])
            bucket.append(_Template(_compile(spec.path), runner, route))
        for bucket in self.templates.values():
            # Static segments win over `{id}` under the same parent (as in FastAPI's route order).
            bucket.sort(key=lambda t: t.route.path.count("{"))

    def _find(self, method: str, path: str) -> tuple[Runner, MatchedRoute, dict[str, str]] | None:
        hit = self.static.get((method, path))
        if hit is not None:
            return hit[0], hit[1], {}
        for template in self.templates.get((method, _segment(path)), ()):
            m = template.pattern.match(path)
            if m is not None:
                return template.runner, template.route, m.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(BFF_PREFIX):
            found = self._find(scope["method"], scope["path"])
            if found is not None:
                runner, route, params = found
                scope["path_params"] = params
                scope["route"] = route
                response: Response = await runner(Request(scope, receive, send))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
