"""Platform benchmark (issue: platform and BFF machinery).

In one run, on the same uvicorn settings and worker count: the reference (a bare FastAPI route
returning pre-encoded bytes, bench/bare_app.py), TSH's `/health/live` (the whole middleware
stack), a cached screen (hit) with the in-process cache and with Redis, and the same screen
uncached. Each figure is also given as a share of the reference.

    .venv/bin/python -m bench.platform_bench [--workers 2] [--duration 10] [--connections 64]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/tsh_bench]
        [--redis-url redis://127.0.0.1:6379/5]

The default database is a SQLite file under var/bench/, migrated and seeded with the demo data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.loadgen import Result, build_request, run_load
from bench.server import ROOT, login, prepare_database, run_async, running_bare_server, running_server

SCREEN = "/api/bff/mobile/salesperson/dashboard"
USER = "salesperson1@demo.tsh.iq"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--database-url", default=f"sqlite+aiosqlite:///{ROOT / 'var/bench/bench.sqlite3'}")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    ap.add_argument("--screen", default=SCREEN)
    args = ap.parse_args()
    Path(ROOT / "var/bench").mkdir(parents=True, exist_ok=True)
    prepare_database(args.database_url)

    base = {"TSH_DATABASE_URL": args.database_url}
    variants = [
        ("TSH /health/live (middleware stack, no auth)", {}, "/health/live", False),
        ("screen, cached hit, in-process cache", {}, args.screen, True),
        ("screen, cached hit, Redis + local layer", {"TSH_REDIS_URL": args.redis_url}, args.screen, True),
        ("screen, uncached (cache off)", {"TSH_CACHE_SCREENS": "false"}, args.screen, True),
    ]
    results: list[Result] = []
    with running_bare_server(workers=args.workers) as port:
        request = build_request("127.0.0.1", port, "/bare", {})
        label = "reference: bare FastAPI route, no middleware"
        result = run_async(
            run_load(
                label, "127.0.0.1", port, request, connections=args.connections, duration_s=args.duration
            )
        )
        results.append(result)
        print(result.row(), flush=True)
    for label, env, path, needs_token in variants:
        with running_server({**base, **env}, workers=args.workers) as port:
            headers = {"Authorization": f"Bearer {login(port, USER)}"} if needs_token else {}
            request = build_request("127.0.0.1", port, path, headers)
            result = run_async(
                run_load(
                    label, "127.0.0.1", port, request, connections=args.connections, duration_s=args.duration
                )
            )
            results.append(result)
            print(result.row(), flush=True)
    bare = results[0].rps
    print(f"\nworkers={args.workers} connections={args.connections} duration={args.duration}s")
    print(f"database={args.database_url}")
    for r in results[1:]:
        print(f"{r.label:<44} {100 * r.rps / bare:5.1f} % of the reference's throughput")


if __name__ == "__main__":
    main()
