"""Run the whole suite on the embedded defaults, then on PostgreSQL + Redis when configured.

TSH_TEST_DATABASE_URL (a PostgreSQL server URL; a fresh database is created on it per run) and
TSH_TEST_REDIS_URL select the second run. With TSH_TEST_REQUIRE_SERVICES=1 (CI) a missing or
unreachable service is a failure, never a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys


def _pytest(label: str, extra_env: dict[str, str]) -> int:
    print(f"\n=== test suite on {label} ===", flush=True)
    env = {**os.environ, **extra_env}
    return subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], env=env)


def main() -> int:
    codes = [_pytest("SQLite + in-process cache", {"TSH_TEST_BACKEND": "embedded"})]
    pg = os.environ.get("TSH_TEST_DATABASE_URL")
    redis = os.environ.get("TSH_TEST_REDIS_URL")
    if pg and redis:
        codes.append(_pytest("PostgreSQL + Redis", {"TSH_TEST_BACKEND": "services"}))
    elif os.environ.get("TSH_TEST_REQUIRE_SERVICES") == "1":
        print("TSH_TEST_REQUIRE_SERVICES=1 but TSH_TEST_DATABASE_URL/TSH_TEST_REDIS_URL are not set")
        return 1
    return max(codes)


if __name__ == "__main__":
    raise SystemExit(main())
