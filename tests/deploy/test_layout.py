"""deploy/local-cluster.sh, the nginx upstream and the Prometheus targets describe one topology."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SCRIPT = DEPLOY / "local-cluster.sh"


def _script_var(name: str) -> str:
    match = re.search(rf"^{name}=(.+)$", SCRIPT.read_text(), re.MULTILINE)
    assert match is not None, name
    return match.group(1)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_the_script_parses() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_nginx_and_prometheus_point_at_the_instances_the_script_starts() -> None:
    instances = set(re.findall(r"\d+", _script_var("INSTANCES")))
    upstream = set(re.findall(r"server 127\.0\.0\.1:(\d+)", (DEPLOY / "nginx" / "tsh.conf").read_text()))
    assert upstream == instances
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in scrape}
    assert {t.rsplit(":", 1)[1] for t in targets["tsh"]} == instances
    for job, var in (
        ("node", "NODE_EXPORTER_PORT"),
        ("postgres", "PG_EXPORTER_PORT"),
        ("redis", "REDIS_EXPORTER_PORT"),
        ("prometheus", "PROM_PORT"),
    ):
        assert targets[job] == [f"127.0.0.1:{_script_var(var)}"], job
    assert f"listen {_script_var('NGINX_PORT')} ssl" in (DEPLOY / "nginx" / "tsh.conf").read_text()


def test_the_cluster_never_uses_the_shared_redis_database_0_or_the_shared_primary() -> None:
    assert _script_var("REDIS_URL").endswith('/6}"')
    assert _script_var("PRIMARY_PORT") != "5432" and _script_var("REPLICA_PORT") != "5432"


def test_the_image_carries_the_migrations_and_compose_runs_them_first() -> None:
    dockerfile = (DEPLOY.parent / "Dockerfile").read_text()
    for line in ("COPY alembic.ini ./", "COPY migrations ./migrations", "COPY src ./src"):
        assert line in dockerfile, line
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert services["migrate"]["command"][-1] == "tsh migrate"
    for name in ("tsh-1", "tsh-2"):
        env = services[name]["environment"]
        assert env["TSH_ENV"] == "prod" and env["TSH_DATABASE_REPLICA_URL"] and env["TSH_TRUSTED_PROXIES"]
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
