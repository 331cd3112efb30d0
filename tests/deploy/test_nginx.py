"""The edge configuration (deploy/nginx) is one nginx accepts, and keeps to the app's limits."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tsh import API_VERSION
from tsh.config import Settings

NGINX_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)
TSH_CONF = (NGINX_DIR / "tsh.conf").read_text()


def _self_signed(conf: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (conf / "tls").mkdir()
    (conf / "tls" / "tsh.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (conf / "tls" / "tsh.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install -y nginx)")
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    # The layout deploy/local-cluster.sh builds: <prefix>/conf/{nginx,tsh}.conf, tls/, logs/, temp/.
    conf = tmp_path / "conf"
    conf.mkdir()
    for name in ("nginx.conf", "tsh.conf"):
        shutil.copy(NGINX_DIR / name, conf / name)
    _self_signed(conf)
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    assert NGINX is not None
    result = subprocess.run(
        [
            NGINX,
            "-t",
            "-q",
            "-p",
            str(tmp_path),
            "-c",
            "conf/nginx.conf",
            "-e",
            str(tmp_path / "logs/error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # not even a warning


def test_the_edge_body_limit_is_the_apps() -> None:
    size = re.search(r"client_max_body_size (\d+)([km]?);", TSH_CONF)
    assert size is not None
    factor = {"": 1, "k": 1024, "m": 1024 * 1024}[size.group(2)]
    assert int(size.group(1)) * factor == Settings(env="test").max_body_bytes


def test_the_edge_passes_what_the_app_relies_on() -> None:
    for line in (
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Request-ID $tsh_request_id;",
        'proxy_set_header Connection "";',  # keep-alive to the upstream
        "proxy_http_version 1.1;",
    ):
        assert line in TSH_CONF, line
    # The edge's own "no instance answered" answer is the app's error envelope.
    assert '"error_code":"SERVICE_UNAVAILABLE"' in TSH_CONF
    assert f'"api_version":"{API_VERSION}"' in TSH_CONF
    # The same request id pattern as the app's middleware, so an id nginx passes is kept.
    from tsh.platform.http.middleware import _SAFE_ID

    assert _SAFE_ID.pattern.replace("\\-", "-") in TSH_CONF.replace("\\-", "-")
