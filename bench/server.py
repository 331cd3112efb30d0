"""Start and stop a real `tsh serve` (uvicorn, N workers) for benchmarks, on a prepared database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TSH = str(Path(sys.executable).with_name("tsh"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return port if port < 32768 else 18000 + port % 10000


def prepare_database(database_url: str, profile: str = "demo") -> None:
    env = {**os.environ, "TSH_DATABASE_URL": database_url, "TSH_ENV": "dev"}
    subprocess.run([TSH, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run([TSH, "seed", "--profile", profile, "--if-empty"], env=env, check=True, cwd=ROOT)


@contextlib.contextmanager
def _serving(cmd: list[str], env: dict[str, str], ready_path: str, port: int) -> Iterator[int]:
    """Start `cmd`, wait until `ready_path` answers 200, yield the port, stop it."""
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"{cmd[0]} did not become ready")
        yield port
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        if proc.poll() is None:
            proc.kill()


@contextlib.contextmanager
def running_server(env_overrides: dict[str, str], *, workers: int = 2) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "TSH_ENV": "dev",
        "TSH_ACCESS_LOG": "false",
        "TSH_LOG_LEVEL": "WARNING",
        "TSH_RATE_LIMIT_DEFAULT": "100000000/minute",
        # Scheduled jobs would run inside the dev server and share its CPU with what is measured.
        "TSH_JOBS_IN_SERVER": "false",
        **env_overrides,
    }
    cmd = [TSH, "serve", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    with _serving(cmd, env, "/health/ready", port) as served:
        yield served


@contextlib.contextmanager
def running_bare_server(*, workers: int = 2) -> Iterator[int]:
    """uvicorn on bench.bare_app with the settings `tsh serve` uses (uvloop, httptools, no log)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
    ]
    with _serving(cmd, dict(os.environ), "/bare", port) as served:
        yield served


def login(port: int, email: str, password: str = "demo1234") -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/auth/login",
        method="POST",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.loads(r.read())["data"]["access_token"])


def run_async(coro):  # type: ignore[no-untyped-def]
    import uvloop

    uvloop.install()
    return asyncio.run(coro)
