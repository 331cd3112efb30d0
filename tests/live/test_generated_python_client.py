"""A Python client generated from the document by openapi-python-client, without hand edits:
generated with no warning, it logs in and reads the first screen of each of the 11 apps from a
live server, and parses each answer into its generated model.

openapi-python-client 0.29.1 needs typer<0.28 while the project pins typer 0.29.2, so it lives in
its own virtualenv (`make tools`: .venv-tools); the client runs there too, in a subprocess, with
the httpx and attrs the generator depends on. Runs on the embedded back end only: the document and
the generated code do not depend on the back end, and one run is enough to show the client works.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.http import DEMO_PASSWORD, demo
from tests.live.roles import ROLE_OF_TAG
from tsh.domain.apps import APPS

TOOLS = Path(os.environ.get("TSH_TOOLS_VENV", Path(__file__).resolve().parents[2] / ".venv-tools"))
GENERATOR = TOOLS / "bin" / "openapi-python-client"
pytestmark = [
    pytest.mark.skipif(not GENERATOR.exists(), reason=f"no {GENERATOR} (run `make tools`)"),
    pytest.mark.skipif(
        os.environ.get("TSH_TEST_BACKEND", "embedded") != "embedded", reason="runs once, on the embedded run"
    ),
]

# Each app's first screen: the operation module is named after its endpoint id (`POS-01 home`).
FIRST_SCREEN = {
    "consumer": "con_01_",
    "salesperson": "sal_01_",
    "pos": "pos_01_",
    "admin": "adm_01_",
    "inventory": "inv_01_",
    "accounting": "acc_01_",
    "hr": "hr_01_",
    "security": "sec_01_",
    "partner": "par_01_",
    "wholesale": "who_01_",
    "aso": "aso_01_",
}

CALLS = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    out, url, password, screens = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    sys.path.insert(0, out)
    from tsh_client import AuthenticatedClient, Client
    from tsh_client.api.auth import post_api_auth_login
    from tsh_client.models import LoginBody

    answers = {}
    for app, (email, prefix) in screens.items():
        login = post_api_auth_login.sync(
            client=Client(base_url=url), body=LoginBody(email=email, password=password)
        )
        client = AuthenticatedClient(
            base_url=url, token=login.data.access_token, raise_on_unexpected_status=True
        )
        package = importlib.import_module(f"tsh_client.api.{app}")
        [name] = [m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith(prefix)]
        answer = importlib.import_module(f"tsh_client.api.{app}.{name}").sync(client=client)
        answers[app] = {
            "answer": type(answer).__name__,
            "success": answer.success,
            "data": type(answer.data).__name__,
            "fields": sorted(answer.data.to_dict()),
        }
    print(json.dumps(answers))
    """
)


def test_generated_client_reads_every_app(live_url: str, tmp_path: Path) -> None:
    from tsh.config import Settings
    from tsh.main import create_app

    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(create_app(Settings(env="test")).openapi()))
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"post_hooks": []}))  # no formatter run on the generated code
    generated = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(tmp_path / "tsh_client"), "--config", str(config)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    # Every operation and schema made it into the client (a skipped one is reported as a warning).
    assert "Warning" not in output and "WARNING" not in output and "Unable" not in output, output

    screens = {app: (demo(ROLE_OF_TAG[app]), FIRST_SCREEN[app]) for app in APPS}
    python = str(TOOLS / "bin" / "python")
    ran = subprocess.run(
        [python, "-c", CALLS, str(tmp_path), live_url, DEMO_PASSWORD, json.dumps(screens)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    answers = json.loads(ran.stdout)
    assert set(answers) == set(APPS)
    for app, answer in answers.items():
        assert answer["answer"].endswith("Response200") and answer["success"] is True, (app, answer)
        assert answer["data"] not in ("dict", "NoneType", "Unset") and answer["fields"], (app, answer)
