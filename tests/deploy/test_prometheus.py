"""The production monitoring files (deploy/prometheus, deploy/grafana) are valid and ask only for
metrics that exist: promtool checks the configuration and runs the alert unit tests, and every
metric an alert or a dashboard panel names is exported by the app or by a named exporter."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import tsh.platform.metrics  # noqa: F401  (registers the app's metrics)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (apt-get install -y prometheus)"
)

# What the exporters the deployment runs export and the files use (names checked against the
# running Debian exporters: prometheus-node-exporter 1.5, prometheus-postgres-exporter 0.11,
# prometheus-redis-exporter 1.45), plus Prometheus's own `up`.
EXPORTED_ELSEWHERE = {
    "prometheus": {"up"},
    "node_exporter": {
        "node_memory_MemAvailable_bytes",
        "node_memory_MemTotal_bytes",
        "node_cpu_seconds_total",
    },
    "postgres_exporter": {"pg_up", "pg_stat_activity_count", "pg_settings_max_connections"},
    "redis_exporter": {"redis_up", "redis_memory_used_bytes", "redis_memory_max_bytes"},
}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
# A metric in these files is always written with a selector: name{...}.
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{")


def _app_metrics() -> set[str]:
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


def _rules() -> list[dict[str, str]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana" / "tsh.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def _unknown(exprs: list[str], recorded: set[str]) -> dict[str, set[str]]:
    known = _app_metrics() | recorded | set().union(*EXPORTED_ELSEWHERE.values())
    unknown = {}
    for expr in exprs:
        names = set(SELECTOR.findall(expr)) | set(re.findall(r"^\s*([a-z_:][a-z0-9_:]*)\s*[<>=]", expr))
        assert names, f"no metric selector in {expr!r}"
        if missing := names - known:
            unknown[expr] = missing
    return unknown


def test_the_app_exports_what_the_rules_rely_on() -> None:
    # Guards the fixed list above and the rules against a renamed app metric.
    assert {
        "tsh_http_requests_total",
        "tsh_http_request_duration_seconds_bucket",
        "tsh_cache_requests_total",
        "tsh_db_pool_connections_in_use",
        "tsh_db_pool_size",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    } <= _app_metrics()


def test_every_alert_names_existing_metrics() -> None:
    rules = _rules()
    recorded = {rule["record"] for rule in rules if "record" in rule}
    assert _unknown([rule["expr"] for rule in rules], recorded) == {}


def test_the_design_thresholds_each_have_an_alert_with_a_unit_test() -> None:
    alerts = {rule["alert"]: rule for rule in _rules() if "alert" in rule}
    tested = (PROMETHEUS / "alerts_test.yml").read_text()
    for name, rule in alerts.items():
        assert f"alertname: {name}\n" in tested, f"{name} has no promtool unit test"
        assert rule["labels"]["severity"] in ("warning", "critical")
    design = {
        "TshLatencyP95Critical": "> 1",
        "TshLatencyP95Warning": "> 0.5",
        "TshErrorRateCritical": "> 0.05",
        "TshErrorRateWarning": "> 0.02",
        "TshCacheHitRateCritical": "< 0.5",
        "TshCacheHitRateWarning": "< 0.7",
        "TshDbPoolSaturated": "> 0.8",
        "PostgresConnectionsHigh": "> 0.8",
        "HostMemoryHigh": "> 0.8",
    }
    for name, threshold in design.items():
        assert alerts[name]["expr"].strip().endswith(threshold), name


def test_the_dashboard_is_grafana_json_asking_for_existing_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "tsh.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(panel["title"].lower() for panel in dashboard["panels"])
    for topic in ("request rate", "p50", "p95", "p99", "error rate", "cache hit rate",
                  "database connections", "redis memory", "cpu", "memory"):  # fmt: skip
        assert topic in titles, topic
    assert _unknown(_dashboard_exprs(), set()) == {}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60, check=False
    )


@needs_promtool
def test_promtool_accepts_the_configuration_and_rules() -> None:
    for args in (("check", "config", "prometheus.yml"), ("check", "rules", "alerts.yml")):
        result = _promtool(*args)
        assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_unit_tests_of_every_alert_pass() -> None:
    result = _promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
