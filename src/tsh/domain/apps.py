"""The 11 Flutter apps: the one list of their names.

The name is the app's segment under `/api/bff/mobile/` (the consumer app has none), the `app`
a login names, the permission module of its endpoints, the `app` column of sessions, audit and
request-log rows, and the tag an admin clears the cache by (ADM-25).
"""

from __future__ import annotations

from typing import Literal, get_args

AppName = Literal[
    "consumer", "salesperson", "pos", "admin", "inventory", "accounting",
    "hr", "security", "partner", "wholesale", "aso",
]  # fmt: skip
APPS: tuple[AppName, ...] = get_args(AppName)

# Endpoint counts fixed by the contract (239 in all).
ENDPOINT_COUNTS: dict[AppName, int] = {
    "consumer": 37,
    "salesperson": 13,
    "pos": 16,
    "admin": 25,
    "inventory": 20,
    "accounting": 30,
    "hr": 25,
    "security": 20,
    "partner": 15,
    "wholesale": 18,
    "aso": 20,
}

# The consumer app's endpoints sit directly under the BFF prefix; every other app has a segment.
SEGMENTS: dict[AppName, str | None] = {app: (None if app == "consumer" else app) for app in APPS}


# Endpoint groups every app shares, outside the 239 app rows (docs/contract/mobile.md: delta sync);
# mounted directly under /api/bff/mobile. Documented and tested generically like the apps.
SHARED_GROUPS: tuple[str, ...] = ("mobile",)


def is_app(name: str | None) -> bool:
    return name in APPS
