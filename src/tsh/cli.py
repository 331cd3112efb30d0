"""`tsh` command line: run, migrate, seed, serve, worker, routes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tsh.config import VAR_DIR, Settings, get_settings

if TYPE_CHECKING:
    from tsh.platform.scheduler import Job

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

    from tsh.logging import configure_logging
    from tsh.platform.metrics import clear_multiprocess_dir

    clear_multiprocess_dir()
    configure_logging(get_settings())
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
        # uvicorn's lines go through tsh.logging (JSON with the request id), not its own
        # plain-text handlers; the startup lines use it too, hence configure_logging above.
        log_config=None,
        # Phones on slow links reuse one connection between screens; uvicorn's 5 s default would
        # close it between two taps and pay a new TCP (and TLS) handshake each time.
        timeout_keep_alive=75,
        # The client address comes from X-Forwarded-For of Settings.trusted_proxies only
        # (tsh.platform.http.client_ip); uvicorn's own rewrite would trust any local process.
        proxy_headers=False,
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


@cli.command()
def worker(
    once: Annotated[str | None, typer.Option("--once", help="run this job once now, then exit")] = None,
    list_jobs: Annotated[bool, typer.Option("--list", help="list the jobs and their schedules")] = False,
) -> None:
    """Run the scheduled jobs until stopped (production; with TSH_ENV=dev the server runs them)."""
    from tsh.domain.jobs import catalogue

    settings = get_settings()
    jobs = catalogue(settings)
    if list_jobs:
        for job in jobs:
            typer.echo(f"{job.name:30} {job.cron:12} {job.timezone:13} {job.description}")
        return
    if once is not None and once not in {j.name for j in jobs}:
        typer.echo(f"unknown job {once!r}; jobs: {', '.join(j.name for j in jobs)}", err=True)
        raise typer.Exit(2)
    _ensure_var_dir()
    outcome = asyncio.run(_work(settings, jobs, once))
    if outcome == "failed":
        raise typer.Exit(1)


async def _work(settings: Settings, jobs: list[Job], once: str | None) -> str:
    import signal

    from tsh.bff.invalidation import install_invalidation
    from tsh.context import AppContext
    from tsh.platform.scheduler import JobScheduler, run_job

    ctx = await AppContext.build(settings)
    # Events the jobs raise drop cached screens like a request's would (shared through Redis;
    # with the in-process cache only the server's own scheduler can reach its screens).
    install_invalidation(ctx)
    try:
        if once is not None:
            result = await run_job(next(j for j in jobs if j.name == once), db=ctx.db, bus=ctx.bus)
            typer.echo(
                f"{result.job}: {result.outcome}, {result.changed} changed"
                + (f" ({result.error})" if result.error else "")
            )
            return result.outcome
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(f"tsh worker: {len(jobs)} jobs ({', '.join(j.name for j in jobs)}); Ctrl+C stops")
        await JobScheduler(jobs, db=ctx.db, bus=ctx.bus).run_until(stop)
        return "ok"
    finally:
        await ctx.close()


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
