"""/docs renders its operation list in headless Chromium, from local assets only.

Chromium is pointed at a recording proxy: loopback requests bypass a proxy by default, so every
request that reaches it is one the page made to another host (a CDN), and the test fails on it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)")


# Chromium's own background services (clock, component updates, sign-in), which it calls whatever
# page it shows; any other host is one the page asked for.
CHROMIUM_SERVICES = {
    "accounts.google.com",
    "clients2.google.com",
    "update.googleapis.com",
    "optimizationguide-pa.googleapis.com",
}


def _host(request_line: str) -> str:
    """`CONNECT host:443` or `GET http://host/path` -> host."""
    target = request_line.split(" ", 1)[1]
    return target.removeprefix("http://").removeprefix("https://").split("/", 1)[0].split(":", 1)[0]


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str] = []

    def _refuse(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(502)
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_CONNECT = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()


def test_docs_render_offline_in_chromium(live_url: str, proxy: tuple[str, list[str]]) -> None:
    address, external = proxy
    assert CHROMIUM
    with tempfile.TemporaryDirectory(prefix="tsh-chromium-") as profile:
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                f"--user-data-dir={profile}",
                f"--proxy-server=http://{address}",
                # Swagger UI fetches /openapi.json and renders after the load event.
                "--virtual-time-budget=8000",
                "--dump-dom",
                f"{live_url}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    assert "swagger-ui" in dom
    # The operation list: one block per operation, with its path and summary.
    assert dom.count('class="opblock opblock-') > 200, dom[-2000:]
    assert "/api/bff/mobile/pos/dashboard" in dom
    page_requests = [r for r in external if _host(r) not in CHROMIUM_SERVICES]
    assert not page_requests, f"/docs requested other hosts: {page_requests}"
