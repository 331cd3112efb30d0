"""Throughput and latency of named endpoints on a prepared database (cold vs warm, or one by one).

    # consumer home and product page, cold (screen cache off) and warm, under load:
    .venv/bin/python -m bench.endpoints_bench load --user consumer1@demo.tsh.iq \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/seedlarge \
        --redis-url redis://127.0.0.1:6379/6 /api/bff/mobile/home /api/bff/mobile/products/42

    # each legacy dashboard call, one request at a time (latency per call):
    .venv/bin/python -m bench.endpoints_bench latency --user salesperson1@demo.tsh.iq --legacy-dashboard \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/seedlarge --redis-url redis://127.0.0.1:6379/6

The database is used as it is (seed it first: `tsh seed --profile large`).
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.request

from bench.legacy_vs_bff import legacy_paths
from bench.loadgen import Result, build_request, run_load
from bench.server import login, run_async, running_server


def _get(port: int, path: str, token: str) -> tuple[int, bytes]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _user_id(port: int, token: str) -> int:
    return int(json.loads(_get(port, "/api/auth/me", token)[1])["data"]["user"]["id"])


def cmd_load(args: argparse.Namespace) -> None:
    base = {"TSH_DATABASE_URL": args.database_url, "TSH_REDIS_URL": args.redis_url}
    for label, env in (("warm", {}), ("cold", {"TSH_CACHE_SCREENS": "false"})):
        with running_server({**base, **env}, workers=args.workers) as port:
            token = login(port, args.user)
            for path in args.paths:
                status, _ = _get(port, path, token)
                assert status == 200, (path, status)
                request = build_request("127.0.0.1", port, path, {"Authorization": f"Bearer {token}"})
                result: Result = run_async(
                    run_load(
                        f"{label} {path}",
                        "127.0.0.1",
                        port,
                        request,
                        connections=args.connections,
                        duration_s=args.duration,
                    )
                )
                print(result.row(), flush=True)


def _pct(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, round(q / 100 * (len(sorted_ms) - 1)))]


def cmd_latency(args: argparse.Namespace) -> None:
    base = {"TSH_DATABASE_URL": args.database_url, "TSH_REDIS_URL": args.redis_url}
    with running_server(base, workers=args.workers) as port:
        token = login(port, args.user)
        paths = list(args.paths)
        if args.legacy_dashboard:
            paths += legacy_paths(_user_id(port, token))
        for path in paths:
            times, size = [], 0
            for _ in range(args.samples):
                t = time.perf_counter()
                status, body = _get(port, path, token)
                times.append((time.perf_counter() - t) * 1000)
                assert status == 200, (path, status, body[:200])
                size = len(body)
            times.sort()
            print(
                f"{path:<52} p50 {_pct(times, 50):8.1f} ms  p95 {_pct(times, 95):8.1f} ms  "
                f"max {times[-1]:8.1f} ms  body {size:>10,} B  (n={len(times)})",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("load", "latency"):
        p = sub.add_parser(name)
        p.add_argument("paths", nargs="*")
        p.add_argument("--user", required=True)
        p.add_argument("--database-url", required=True)
        p.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
        p.add_argument("--workers", type=int, default=2)
        if name == "load":
            p.add_argument("--connections", type=int, default=32)
            p.add_argument("--duration", type=float, default=10.0)
        else:
            p.add_argument("--samples", type=int, default=30)
            p.add_argument("--legacy-dashboard", action="store_true")
    args = ap.parse_args()
    cmd_load(args) if args.cmd == "load" else cmd_latency(args)


if __name__ == "__main__":
    main()
