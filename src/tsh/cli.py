"""`tsh` command line: run, migrate, seed, serve, routes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from tsh.config import VAR_DIR, get_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="TSH BFF server and tools")


def _ensure_var_dir() -> None:
    settings = get_settings()
    if settings.is_sqlite:
        VAR_DIR.mkdir(exist_ok=True)
        Path(settings.database_url.split("///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)


@cli.command()
def migrate() -> None:
    """Apply every Alembic migration to TSH_DATABASE_URL."""
    from tsh.platform.db.migrate import upgrade

    _ensure_var_dir()
    upgrade(get_settings().database_url)
    typer.echo("database migrated")


@cli.command()
def seed(
    profile: Annotated[str, typer.Option(help="demo (seconds) or large (production scale)")] = "demo",
    reset: Annotated[bool, typer.Option(help="delete existing data first")] = False,
    if_empty: Annotated[bool, typer.Option(help="do nothing when data exists")] = False,
) -> None:
    """Load deterministic demo data."""
    from tsh.seed import run_seed

    _ensure_var_dir()
    report = asyncio.run(run_seed(get_settings(), profile=profile, reset=reset, if_empty=if_empty))
    typer.echo(report)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Start uvicorn on tsh.main:app (run `tsh migrate` first when using several workers)."""
    import uvicorn

    if not access_log:
        os.environ["TSH_ACCESS_LOG"] = "false"
    uvicorn.run(
        "tsh.main:app",
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        # Phones on slow links reuse one connection between screens; uvicorn's 5 s default would
        # close it between two taps and pay a new TCP (and TLS) handshake each time.
        timeout_keep_alive=75,
    )


@cli.command()
def run(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Migrate, seed demo data when the database is empty, print the demo logins, serve."""
    # A busy port is said before migrating and seeding, not after (`make run PORT=8001`).
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            typer.echo(f"port {port} on {host} is not free ({exc.strerror}): use --port", err=True)
            raise typer.Exit(1) from None
    migrate()
    seed(profile="demo", reset=False, if_empty=True)
    from tsh.seed.demo_users import demo_logins_text

    typer.echo(demo_logins_text())
    typer.echo(f"TSH BFF on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    serve(host=host, port=port, workers=1)


ENDPOINTS_MD = Path(__file__).resolve().parents[2] / "docs" / "endpoints.md"


@cli.command()
def routes(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="write docs/endpoints.md (or --output) instead of printing")
    ] = False,
    output: Annotated[Path, typer.Option(help="where --markdown writes")] = ENDPOINTS_MD,
) -> None:
    """Print every BFF endpoint: id, app, method, path, kind, roles, scope, cache category."""
    from tsh.main import load_apps

    specs = sorted(load_apps(), key=lambda s: (s.app, s.id))
    if markdown:
        from tsh.bff.endpoint_docs import render_markdown

        output.write_text(render_markdown(specs))
        typer.echo(f"wrote {output} ({len(specs)} endpoints)")
        return
    rows = [("ID", "APP", "METHOD", "PATH", "KIND", "ROLES", "SCOPE", "CACHE")]
    for s in specs:
        scopes = sorted(set(s.scopes.values()))
        scope = scopes[0] if len(scopes) == 1 else ", ".join(f"{r}:{v}" for r, v in sorted(s.scopes.items()))
        rows.append(
            (s.id, s.app, s.method, s.path, s.kind, ",".join(sorted(s.roles)) or "admin", scope, s.cache)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    per_app: dict[str, int] = {}
    for s in specs:
        per_app[s.app] = per_app.get(s.app, 0) + 1
    typer.echo(f"\n{len(specs)} endpoints: " + ", ".join(f"{a} {n}" for a, n in sorted(per_app.items())))


def main() -> None:
    cli()
