"""The registry against the contract's tables, row by row.

The contract lives in the repository (docs/contract/, a copy of the team's shared contract), so
this test never skips: every registered endpoint must be a row of its app's table with the same
method, path, kind, roles, scopes, cache category and events. Rows not built yet are not a
failure; the run ends by listing them (tests/conftest.py prints `contract_gaps()`).
When the team's shared folder sits beside the checkout (`shared/api` next to the repository), the
copy must equal it.
"""

from __future__ import annotations

import filecmp
import os
import re
from pathlib import Path

import pytest

from tsh.bff.spec import REGISTRY, EndpointSpec
from tsh.domain.apps import APPS, ENDPOINT_COUNTS
from tsh.main import load_apps

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "contract"
SHARED = ROOT.parent / "shared" / "api"
EVENT = re.compile(
    r"\b([A-Z][a-zA-Z]+(?:Changed|Created|Received|Recorded|Posted|Issued|Processed|Completed|Reconciled))\b"
)
COLUMNS = ["id", "method", "path", "kind", "purpose", "roles", "scope", "cache", "events"]


def contract_rows(app: str) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in (CONTRACT / "apps" / f"{app}.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 11 and re.fullmatch(r"[A-Z]{2,3}-\d\d", cells[0]):
            rows[cells[0]] = dict(zip(COLUMNS, cells, strict=False))
    return rows


def _scopes(text: str, roles: set[str]) -> dict[str, str]:
    if ":" not in text:
        return {r: text.split()[0] for r in roles}
    out = {}
    for part in text.split(";"):
        names, _, scope = part.partition(":")
        for role in names.split(","):
            out[role.strip()] = scope.strip().split()[0].strip(",")
    return out


def _built(app: str) -> list[EndpointSpec]:
    load_apps()
    return [s for s in REGISTRY if s.app == app]


def contract_gaps() -> dict[str, list[str]]:
    """Per app, the contract rows with no endpoint yet."""
    gaps = {}
    for app in APPS:
        missing = sorted(set(contract_rows(app)) - {s.id for s in _built(app)})
        if missing:
            gaps[app] = missing
    return gaps


@pytest.mark.parametrize("app", APPS)
def test_contract_table_has_the_apps_rows(app: str) -> None:
    assert len(contract_rows(app)) == ENDPOINT_COUNTS[app]


def _built_ids() -> list[str]:
    return sorted(s.id for app in APPS for s in _built(app))


@pytest.mark.parametrize("endpoint_id", _built_ids())
def test_endpoint_matches_its_row(endpoint_id: str) -> None:
    spec = next(s for s in REGISTRY if s.id == endpoint_id)
    row = contract_rows(spec.app).get(spec.id)
    assert row is not None, f"{spec.id} is not a row of docs/contract/apps/{spec.app}.md"
    assert spec.method == row["method"]
    assert spec.path == row["path"].strip("`")
    assert spec.kind == row["kind"]
    roles = {r.strip() for r in row["roles"].split(",")}
    assert set(spec.roles) == roles
    assert spec.scopes == _scopes(row["scope"], roles)
    assert spec.cache == row["cache"]
    assert set(spec.events) == set(EVENT.findall(row["events"]))
    assert [s.operation_id for s in REGISTRY].count(spec.operation_id) == 1


def test_copy_equals_the_shared_contract() -> None:
    if not SHARED.exists():
        # The copy in docs/contract is what the tests above read, so nothing is left unchecked;
        # only its freshness against the team's folder cannot be seen from a lone clone.
        pytest.skip("no shared/api beside this checkout; docs/contract is the reference")
    files = sorted(p.relative_to(SHARED) for p in SHARED.rglob("*.md"))
    assert files == sorted(p.relative_to(CONTRACT) for p in CONTRACT.rglob("*.md"))
    _, mismatch, errors = filecmp.cmpfiles(SHARED, CONTRACT, [str(f) for f in files], shallow=False)
    assert not mismatch and not errors, f"docs/contract differs from the shared contract: {mismatch + errors}"


if os.environ.get("CI") == "true" and not CONTRACT.exists():  # pragma: no cover - a broken clone
    raise RuntimeError("docs/contract is missing: the contract tests cannot run")
