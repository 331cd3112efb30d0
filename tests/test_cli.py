"""`tsh routes` prints the registry that the app mounts and the OpenAPI document lists."""

from __future__ import annotations

from typer.testing import CliRunner

from tsh.bff.spec import REGISTRY
from tsh.cli import cli


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
