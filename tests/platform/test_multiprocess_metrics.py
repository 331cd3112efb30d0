"""With PROMETHEUS_MULTIPROC_DIR (several workers) /metrics still has the process CPU and memory,
summed over the live workers, and an exited worker's live gauges leave the sums. Run in a child
process: the mode is chosen when prometheus_client is imported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import os
from prometheus_client.parser import text_string_to_metric_families
from tsh.platform import metrics

def values(text):
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if not s.labels}

metrics.IN_FLIGHT.inc()
live = values(metrics.render()[0].decode())
assert live["process_resident_memory_bytes"] > 1_000_000, live
assert live["process_cpu_seconds_total"] > 0, live
assert live["tsh_http_requests_in_flight"] == 1, live
pid = os.getpid()
assert any(str(pid) in name for name in os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
metrics.mark_worker_dead(pid)
names = os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
assert not any(n.startswith("gauge_livesum") and n.endswith(f"_{pid}.db") for n in names), names
print("ok")
"""


def _child(directory: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": "src"}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_process_metrics_are_exported_and_a_dead_worker_leaves_the_sums(tmp_path: Path) -> None:
    done = _child(tmp_path, CHILD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_serve_clears_the_previous_runs_files(tmp_path: Path) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    done = _child(
        tmp_path, "from tsh.platform.metrics import clear_multiprocess_dir; clear_multiprocess_dir()"
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
