"""Cache tags derived from domain events and scope markers.

An entry cached for scope marker M ("user:5", "branch:2", "all") that depends on event E carries
two tags: "E" and "E@M". An event published with no scope markers drops every entry tagged "E";
an event that names the markers it touched drops only "E@all" and "E@<marker>" for each of them,
so salesperson 7's dashboard survives an order taken by salesperson 5 of another branch.
"""

from __future__ import annotations

from collections.abc import Iterable

ALL = "all"


def entry_tags(events: Iterable[str], scope_marker: str) -> list[str]:
    tags: list[str] = []
    for ev in events:
        tags.append(ev)
        tags.append(f"{ev}@{scope_marker}")
    return tags


def event_tags(event: str, scopes: Iterable[str]) -> list[str]:
    markers = list(scopes)
    if not markers:
        return [event]
    return [f"{event}@{ALL}", *(f"{event}@{m}" for m in markers)]


def screen_tags(category: str, app: str) -> list[str]:
    """Tags every stored screen carries besides its event tags, so an admin can drop one cache
    category, one app's screens, or one category of one app (ADM-25)."""
    return [f"category:{category}", f"app:{app}", f"category:{category}@app:{app}"]


def clear_tags(category: str | None, app: str | None) -> list[str]:
    """The tags ADM-25 drops for a category (or every category: `categories`), an app, or both."""
    if category is not None and app is not None:
        return [f"category:{category}@app:{app}"]
    if category is not None:
        return [f"category:{category}"]
    return [f"app:{app}"] if app is not None else []
