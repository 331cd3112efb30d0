"""Example request bodies built from a pydantic model's JSON schema, and the scalar leaves in them.

The probe tests (tests/bff/test_probes.py, tests/api/test_legacy_probes.py) build one example body
per endpoint from its body model and mutate one leaf at a time (a NUL into a string, "1" into an
integer, "NaN" into an amount…), so an endpoint added later is probed without a line of its own.
An example aims at validity but does not need to reach it: a probe asserts that the 422 names the
mutated field, whatever else the body may lack.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

Kind = Literal["str", "date", "int", "id", "money", "decimal", "bool"]
Path = tuple[str | int, ...]
MAX_ID = 2**31 - 1
# Dates that are no ISO 8601 text, though pydantic would read the first two as seconds since 1970.
NOT_ISO_DATES = ("0", "1700000000", "2026/12/01")
# Values tried, in order, for a string with a pattern (phones, codes, colours…).
_PATTERN_CANDIDATES = ("+9647701234567", "07701234567", "ABC123", "abc", "a1", "#123456", "1")


@dataclass(frozen=True)
class Leaf:
    path: Path
    kind: Kind

    @property
    def field(self) -> str:
        """The path as the error details name it: `lines[0].qty`."""
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
        return out


class _Walker:
    def __init__(self, model: type[BaseModel]) -> None:
        self.schema = model.model_json_schema()
        self.defs = self.schema.get("$defs", {})
        self.leaves: list[Leaf] = []

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    def branch(self, node: dict[str, Any]) -> dict[str, Any]:
        """The first non-null alternative of a union (Decimal's number|string stays whole)."""
        node = self.resolve(node)
        options = node.get("anyOf") or node.get("oneOf")
        if options and not _is_decimal(node):
            for option in options:
                if self.resolve(option).get("type") != "null":
                    return self.branch(option)
        return node

    def value(self, node: dict[str, Any], path: Path, depth: int = 0) -> Any:
        node = self.branch(node)
        if _is_decimal(node):
            self.leaves.append(Leaf(path, "decimal"))
            return "1"
        kind = node.get("type")
        if kind == "object" and "properties" in node:
            props = node["properties"]
            if path and {"amount", "currency"} <= set(props):
                self.leaves.append(Leaf(path, "money"))
                return {"amount": "1000", "currency": "IQD"}
            if depth > 4:
                return {}
            return {name: self.value(sub, (*path, name), depth + 1) for name, sub in props.items()}
        if kind == "array":
            items = node.get("items", {})
            return [self.value(items, (*path, 0), depth + 1)] if items else []
        if "enum" in node or "const" in node:
            return node["enum"][0] if "enum" in node else node["const"]
        if kind == "string":
            self.leaves.append(Leaf(path, "date" if node.get("format") in ("date", "date-time") else "str"))
            return _string(node)
        if kind == "integer":
            lowest = node.get("minimum", node.get("ge", 0))
            is_id = node.get("le", node.get("maximum")) == MAX_ID and lowest >= 0
            self.leaves.append(Leaf(path, "id" if is_id else "int"))
            low = node.get("minimum", node.get("ge", 0))
            if "exclusiveMinimum" in node or "gt" in node:
                low = max(low, node.get("exclusiveMinimum", node.get("gt", 0)) + 1)
            return max(1, low) if is_id else max(low, min(1, node.get("maximum", 1)))
        if kind == "number":
            return max(node.get("minimum", 0), min(1, node.get("maximum", 1)))
        if kind == "boolean":
            self.leaves.append(Leaf(path, "bool"))
            return False
        return None


def _is_decimal(node: dict[str, Any]) -> bool:
    types = {option.get("type") for option in node.get("anyOf", [])}
    return {"number", "string"} <= types


def _string(node: dict[str, Any]) -> str:
    fmt = node.get("format")
    if fmt == "date":
        return "2026-12-01"
    if fmt == "date-time":
        return "2026-12-01T10:00:00Z"
    if fmt == "email":
        return "probe@example.com"
    pattern = node.get("pattern")
    if pattern:
        for candidate in _PATTERN_CANDIDATES:
            if re.search(pattern, candidate):
                return candidate
    length = max(node.get("minLength", 1), 5)
    return ("probe" * length)[: min(length, node.get("maxLength", length))]


def example_body(model: type[BaseModel]) -> tuple[dict[str, Any], list[Leaf]]:
    """An example body of `model` (every field filled) and its scalar leaves."""
    walker = _Walker(model)
    body = walker.value(walker.schema, ())
    return (body if isinstance(body, dict) else {}), walker.leaves


def with_value(body: dict[str, Any], leaf: Leaf, value: Any) -> dict[str, Any]:
    """A copy of `body` with `value` at the leaf (for a money leaf: in its amount)."""
    out = copy.deepcopy(body)
    target: Any = out
    for part in leaf.path[:-1]:
        target = target[part]
    if leaf.kind == "money":
        target[leaf.path[-1]] = {"amount": value, "currency": "IQD"}
    else:
        target[leaf.path[-1]] = value
    return out


def names_field(answer: dict[str, Any], leaf: Leaf) -> bool:
    """The 422 details name the leaf (or, for an amount, a field inside it)."""
    return any(str(d.get("field", "")).startswith(leaf.field) for d in answer.get("details", []))


def pick(values: tuple[Any, ...], index: int) -> Any:
    """One value per probe and endpoint, rotating over the endpoints so all values get tried."""
    return values[index % len(values)]
