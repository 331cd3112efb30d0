"""`tsh routes` prints the registry that the app mounts and the OpenAPI document lists; `tsh worker`
lists and runs the scheduled jobs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tsh.bff.spec import REGISTRY
from tsh.cli import cli
from tsh.config import get_settings


def test_routes_prints_every_registered_endpoint() -> None:
    result = CliRunner().invoke(cli, ["routes"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:8] == ["ID", "APP", "METHOD", "PATH", "KIND", "ROLES", "SCOPE", "CACHE"]
    for spec in REGISTRY:
        assert any(line.startswith(spec.id + " ") and spec.path in line for line in lines), spec.id
    summary = lines[-1]
    for app, count in (("consumer", 37), ("salesperson", 13), ("pos", 16)):
        assert f"{app} {count}" in summary


def test_worker_lists_its_jobs() -> None:
    result = CliRunner().invoke(cli, ["worker", "--list"])
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == [
        "expire_unpaid_online_orders",
        "apply_due_terminations",
        "purge_idempotency_keys",
        "prune_change_log",
        "send_notifications",
        "roll_up_product_sales",
    ]


def test_worker_once_runs_one_job_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    env = {"TSH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'worker.sqlite3'}", "TSH_ENV": "test"}
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
        result = runner.invoke(cli, ["worker", "--once", "purge_idempotency_keys"], env=env)
        assert result.exit_code == 0, result.output
        assert "purge_idempotency_keys: ok, 0 changed" in result.output
        result = runner.invoke(cli, ["worker", "--once", "no_such_job"], env=env)
        assert result.exit_code == 2 and "unknown job" in result.output
    finally:
        get_settings.cache_clear()


def test_run_refuses_a_busy_port_before_migrating() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["run", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port}" in result.output and "--port" in result.output
    assert "Demo logins" not in result.output
