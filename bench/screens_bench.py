"""Every BFF screen uncached, one request at a time: server-side p50/p95 per screen.

    # demo data on a fresh SQLite file (seeded first):
    .venv/bin/python -m bench.screens_bench --samples 20

    # a database seeded with `tsh seed --profile large` (used as it is):
    .venv/bin/python -m bench.screens_bench \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/tsh_large \
        --redis-url redis://127.0.0.1:6379/6 --samples 20 --skip-seed --json var/bench/screens.json

The screens come from the registry (`tsh.bff.spec.REGISTRY`), so a screen added later is measured
without a line here. Each runs as a demo user of one of its roles (a branch manager where the row
allows one: the widest scope a non-admin has, so the heaviest aggregate). A path id is taken from
the first row of the screen one level up (`/customers` for `/customers/{id}`); a screen whose id
cannot be found that way, or whose query has required parameters, is listed as not measured, never
guessed. The figure is the server's own `metadata.response_time_ms` (what the handler and the
envelope cost, without the client and loopback), with the screen cache off (`TSH_CACHE_SCREENS=false`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.server import login, prepare_database, running_server

# Where the contract allows it, a branch manager: the widest scope short of admin.
ROLE_PREFERENCE = ("branch_manager", "hr_manager", "accountant", "warehouse_manager", "security_officer")
TARGET_P95_MS = 50.0


@dataclass
class Measured:
    id: str
    path: str
    role: str
    p50: float | None = None
    p95: float | None = None
    status: int | None = None
    skipped: str | None = None


def _get(port: int, path: str, token: str) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def _role_for(roles: frozenset[str]) -> str:
    people = sorted(r for r in roles if r not in ("admin", "employee"))
    for role in ROLE_PREFERENCE:
        if role in roles:
            return role
    return people[0] if people else "admin"


def _first_id(data: Any) -> int | None:
    """The id of the first row of the first list of rows in a screen's data."""
    if isinstance(data, list):
        for item in data:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                return int(item["id"])
        for item in data:
            found = _first_id(item)
            if found is not None:
                return found
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, list | dict):
                found = _first_id(value)
                if found is not None:
                    return found
    return None


def _required_query(spec: Any) -> dict[str, str] | None:
    """Values for a query's required parameters: the last 30 days for date ranges, today for
    `as_of`, a word for a search; None when one is an id (not guessed)."""
    model = spec.query_model
    if model is None:
        return {}
    schema = model.model_json_schema()
    today = dt.date.today()
    out: dict[str, str] = {}
    for name in schema.get("required", ()):
        kind = schema["properties"][name]
        day = today - dt.timedelta(days=30) if name == "from" else today
        if kind.get("format") == "date":
            out[name] = day.isoformat()
        elif kind.get("format") == "date-time":
            out[name] = f"{day.isoformat()}T00:00:00Z"
        elif kind.get("type") == "string":
            out[name] = "sam"
        else:
            return None
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(port: int, samples: int) -> list[Measured]:
    from tsh.bff.spec import REGISTRY
    from tsh.main import load_apps

    load_apps()
    tokens: dict[str, str] = {}
    out: list[Measured] = []
    for spec in sorted((s for s in REGISTRY if s.kind == "screen"), key=lambda s: (s.app, s.id)):
        role = _role_for(spec.roles)
        row = Measured(spec.id, spec.path, role)
        out.append(row)
        if role not in tokens:
            tokens[role] = login(port, f"{role}1@demo.tsh.iq")
        token = tokens[role]
        query = _required_query(spec)
        if query is None:
            row.skipped = "a required id in the query"
            continue
        path = spec.path
        if spec.path_params:
            if len(spec.path_params) > 1 or not path.endswith("{" + spec.path_params[0] + "}"):
                row.skipped = "nested path ids"
                continue
            status, parent = _get(port, path.rsplit("/", 1)[0], token)
            row_id = _first_id(parent.get("data")) if status == 200 else None
            if row_id is None:
                row.skipped = "no id found one level up"
                continue
            path = path.replace("{" + spec.path_params[0] + "}", str(row_id))
        if query:
            path += "?" + urllib.parse.urlencode(query)
        times: list[float] = []
        for _ in range(samples + 1):
            status, body = _get(port, path, token)
            row.status = status
            if status != 200:
                break
            times.append(float(body["metadata"]["response_time_ms"]))
        if row.status != 200:
            row.skipped = f"answered {row.status} {body.get('error_code')}"
            continue
        times = times[1:]  # the first request warms the process (imports, prepared statements)
        row.p50, row.p95 = statistics.median(times), _percentile(times, 0.95)
    return out


def report(rows: list[Measured]) -> str:
    lines = [f"{'screen':9} {'role':18} {'p50 ms':>8} {'p95 ms':>8}  path"]
    measured = sorted((r for r in rows if r.p95 is not None), key=lambda r: -(r.p95 or 0))
    for r in measured:
        flag = "  > target" if (r.p95 or 0) > TARGET_P95_MS else ""
        lines.append(f"{r.id:9} {r.role:18} {r.p50:8.1f} {r.p95:8.1f}  {r.path}{flag}")
    over = sum(1 for r in measured if (r.p95 or 0) > TARGET_P95_MS)
    lines.append(f"\n{len(measured)} screens measured, {over} over p95 {TARGET_P95_MS:.0f} ms")
    skipped = [r for r in rows if r.skipped]
    if skipped:
        lines.append(f"{len(skipped)} not measured:")
        lines += [f"  {r.id:9} {r.path}: {r.skipped}" for r in skipped]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--skip-seed", action="store_true", help="use the database as it is")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tsh-screens-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite3"
        if not args.skip_seed:
            prepare_database(url)
        env = {"TSH_DATABASE_URL": url, "TSH_CACHE_SCREENS": "false"}
        if args.redis_url:
            env["TSH_REDIS_URL"] = args.redis_url
        with running_server(env, workers=1) as port:
            rows = measure(port, args.samples)
    print(f"load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}")
    print(report(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=1))


if __name__ == "__main__":
    main()
