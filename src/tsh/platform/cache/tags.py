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
