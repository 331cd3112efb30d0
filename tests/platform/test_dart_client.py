"""The Dart client (openapi-generator, `dart-dio`, as `make dart-client` runs it) generates from
the document with no error and no warning but the two it cannot avoid (docs/clients.md, "Dart
client"). A dry run: the generator processes every operation and model as for real (the warnings
come from that step) without writing ~900 files, which keeps the test at a few seconds.

Not compiled: no Dart SDK can be installed on this machine. Runs on the embedded back end only
(the document does not depend on the back end)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tsh.config import Settings
from tsh.main import create_app

TOOLS = Path(os.environ.get("TSH_TOOLS_VENV", Path(__file__).resolve().parents[2] / ".venv-tools"))
JARS = sorted(TOOLS.glob("lib/python3*/site-packages/openapi_generator_cli/openapi-generator.jar"))
JAVA = shutil.which("java")
pytestmark = [
    pytest.mark.skipif(not JAVA, reason="no java on PATH (openapi-generator needs Java 11+)"),
    pytest.mark.skipif(not JARS, reason=f"no openapi-generator jar in {TOOLS} (run `make tools`)"),
    pytest.mark.skipif(
        os.environ.get("TSH_TEST_BACKEND", "embedded") != "embedded", reason="runs once, on the embedded run"
    ),
]

# What openapi-generator 7.26 says of any 3.1 document, and of any parameter named `source` (a
# reserved word in Dart: the generated argument is `source_`; the name is the contract's).
UNAVOIDABLE = (
    "OpenAPI 3.1 support is still in beta",
    "Source (reserved word) cannot be used as model name",
)


def test_the_dart_client_generates_without_warnings(tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(create_app(Settings(env="test")).openapi()))
    run = subprocess.run(
        # C1 only: a JIT tuned for a short run (10 s -> 6 s here).
        [
            *(str(JAVA), "-XX:TieredStopAtLevel=1", "-jar", str(JARS[-1]), "generate", "-g", "dart-dio"),
            *("-i", str(document), "-o", str(tmp_path / "dart"), "--dry-run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-3000:]
    # (The dry run prints its file list after an ERROR line with no message.)
    complaints = [
        line
        for line in output.splitlines()
        if (" WARN " in line or " ERROR " in line)
        and line.partition(" - ")[2].strip()
        and not any(u in line for u in UNAVOIDABLE)
    ]
    assert complaints == []
    # The dry run lists what it would write: a model per component, an API per app.
    assert "inventory_api.dart" in output and "auth_tokens.dart" in output
