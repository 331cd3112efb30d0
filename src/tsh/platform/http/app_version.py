"""App versions (docs/contract/mobile.md §4): an app older than its configured minimum is told to
upgrade (426 UPGRADE_REQUIRED) instead of calling screens whose shape it no longer understands.

Apps send `X-App-Name` (their segment, e.g. `salesperson`) and `X-App-Version` (semver). Without
the header the call is served, unless `require` is set (old builds that never sent it). Only the
BFF asks: login, refresh and health stay open so an old build can still sign in and be updated.
`details` keeps the envelope's one shape (a list) and carries the minimum the app must reach.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tsh.platform.errors import AppError, field_error

_SEMVER = re.compile(r"(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+][0-9A-Za-z.\-+]{1,64})?")
Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    m = _SEMVER.fullmatch(text.strip())
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def parse_minimums(minimums: Mapping[str, str]) -> dict[str, Version]:
    """The configured minimums, refused at start-up when one is not a version."""
    out = {}
    for app, text in minimums.items():
        version = parse_version(text)
        if version is None:
            raise ValueError(f"TSH_MIN_APP_VERSION[{app!r}] is not a version: {text!r}")
        out[app] = version
    return out


def check_app_version(
    app_name: str | None, app_version: str | None, minimums: Mapping[str, Version], *, require: bool
) -> None:
    """Raise 426 UPGRADE_REQUIRED for an app below its minimum (or without a version when
    `require`); 422 VALIDATION_ERROR for a version that is not semver."""
    if app_version is None:
        if require:
            raise AppError(
                "This app must send X-App-Name and X-App-Version: please update it",
                code="UPGRADE_REQUIRED",
                status=426,
                details=[field_error("X-App-Version", "missing")],
            )
        return
    version = parse_version(app_version)
    if version is None:
        raise AppError(
            "X-App-Version is not a version (major.minor.patch)",
            code="VALIDATION_ERROR",
            status=422,
            details=[field_error("X-App-Version", "not a semantic version")],
        )
    minimum = minimums.get(app_name or "")
    if minimum is not None and version < minimum:
        shown = ".".join(map(str, minimum))
        raise AppError(
            f"This version of the app is no longer supported: update to {shown} or later",
            code="UPGRADE_REQUIRED",
            status=426,
            details=[field_error("X-App-Version", "older than the minimum", minimum=shown)],
        )
