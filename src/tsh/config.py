"""One Settings object, read from TSH_* environment variables (see .env.example).

The defaults are the embedded ones: a SQLite file under ./var and an in-process cache, so
`make run` works on a fresh machine with nothing else installed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TSH_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "staging", "prod"] = "dev"
    database_url: str = f"sqlite+aiosqlite:///{VAR_DIR / 'tsh.sqlite3'}"
    database_replica_url: str | None = None
    database_pool_size: int = 10
    redis_url: str | None = None
    redis_pool_size: int = 64
    local_cache_ttl_s: float = 5.0
    # Off only for benchmarks that measure the uncached path of the same screens.
    cache_screens: bool = True
    secret_key: str = DEV_SECRET
    jwt_issuer: str = "tsh-bff"
    jwt_audience: str = "tsh-apps"
    access_token_ttl_s: int = Field(default=900, ge=60, le=900)
    refresh_token_ttl_s: int = 30 * 24 * 3600
    cors_origins: list[str] = []
    rate_limit_default: str = "300/minute"
    rate_limit_login_ip: str = "20/minute"
    rate_limit_login_account: str = "10/minute"
    max_body_bytes: int = 1024 * 1024
    # Proxies (addresses or networks) whose X-Forwarded-For is believed, e.g. '["127.0.0.1/32"]'
    # behind a local nginx (tsh.platform.http.client_ip). Empty: the header is ignored.
    trusted_proxies: list[IPvAnyNetwork] = []
    # Uploaded media (POST /api/media), stored by random key; relative paths start at the cwd.
    media_dir: str = "var/media"
    metrics_token: str | None = None
    docs_enabled: bool = True
    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = True
    # Threat detectors (clarifications.md): counts over a sliding window of this many minutes.
    threat_window_minutes: int = 10
    threat_brute_force_failures: int = 10
    threat_stuffing_failures: int = 20
    threat_stuffing_accounts: int = 5
    threat_probe_denials: int = 10
    # mass_export: distinct customer or order rows one user receives through list screens.
    threat_export_rows: int = 2000
    # impossible_travel: a MaxMind-format database file (none is shipped) and the speed it flags.
    geoip_db: str | None = None
    threat_travel_kmh: float = 900.0
    # Test suites turn this on: every response is checked against its endpoint's declaration
    # (response model, declared error codes) and a mismatch is recorded as a contract violation.
    check_contract: bool = False
    # App versions (docs/contract/mobile.md §4): e.g. TSH_MIN_APP_VERSION='{"salesperson": "2.3.0"}'.
    min_app_version: dict[str, str] = {}
    require_app_version: bool = False
    # Scheduled jobs (tsh.domain.jobs): inside the server process unless set; by default only with
    # TSH_ENV=dev, so production runs them in `tsh worker` and tests run them by hand.
    jobs_in_server: bool | None = None
    change_log_retention_days: int = Field(default=30, ge=1)
    # Notification outbox sender: smtp://user:password@host:port (smtps:// for implicit TLS,
    # ?starttls=1 to upgrade); without it the rows stay pending and the admin passes links on.
    smtp_url: str | None = None
    smtp_from: str = "TSH <no-reply@tsh.iq>"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env not in ("dev", "test") and self.secret_key == DEV_SECRET:
            raise ValueError("TSH_SECRET_KEY must be set outside TSH_ENV=dev|test")
        if len(self.secret_key) < 32:
            raise ValueError("TSH_SECRET_KEY must be at least 32 characters")
        # In production /metrics is reachable from every private address a proxy or pod has:
        # without a token anyone inside the network could read the route-level traffic.
        if self.env == "prod" and not self.metrics_token:
            raise ValueError("TSH_METRICS_TOKEN must be set when TSH_ENV=prod")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_jobs_in_server(self) -> bool:
        return self.env == "dev" if self.jobs_in_server is None else self.jobs_in_server


@lru_cache
def get_settings() -> Settings:
    return Settings()
