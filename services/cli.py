"""The ``balise`` command: run, migrate, manage clients, users and tokens, import files.

The CLI is the composition root: unlike the services it may import all of them, and it
talks to the database through each service's own functions.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

app = typer.Typer(
    help="Balise: audit, benchmark, action plan and implementation for agencies.",
    no_args_is_help=True,
    add_completion=False,
)
client_app = typer.Typer(help="Clients (tenants) of the agency.", no_args_is_help=True)
user_app = typer.Typer(help="Staff users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for third-party tools.", no_args_is_help=True)
app.add_typer(client_app, name="client")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

T = TypeVar("T")

SERVICES = ("web", "ingest", "benchmark", "planner")
DEMO_EMAIL = "admin@demo.balise"
DEMO_PASSWORD = "balise-demo-2026"  # noqa: S105 - the documented demo login, local only


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


def _web_settings() -> Any:
    from services.web.config import WebSettings

    return WebSettings()


async def _with_web_session(fn: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``fn(session)`` in one transaction on web's tables, committing on success."""
    from shared.db import check_schema, create_sessionmaker, engine_from_settings

    settings = _web_settings()
    engine = engine_from_settings(settings)
    try:
        await check_schema(engine)
        async with create_sessionmaker(engine)() as session:
            result = await fn(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _fail(message: str, code: int = 1) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


# ------------------------------------------------------------------------ migrate


def migrate_database(url: str | None = None) -> None:
    from alembic import command

    from shared.db import alembic_config

    command.upgrade(alembic_config(url), "head")


@app.command()
def migrate() -> None:
    """Bring the database schema to the code's head (Alembic upgrade)."""
    settings = _web_settings()
    migrate_database(settings.database_url)
    typer.echo("Database schema is at head.")


# ------------------------------------------------------------------------ clients


@client_app.command("create")
def client_create(
    name: str,
    slug: Annotated[str | None, typer.Option(help="URL name; derived from NAME if absent.")] = None,
    locale: Annotated[str, typer.Option(help="fr_CA or en.")] = "fr_CA",
) -> None:
    """Create a client."""
    from services.web import service as web_service
    from shared.errors import DomainError

    async def go(db: Any) -> Any:
        return await web_service.create_client(db, name, slug, locale)

    try:
        client = run(lambda: _with_web_session(go))
    except DomainError as exc:
        _fail(exc.detail)
    typer.echo(f"Created client {client.id}: {client.name} ({client.slug})")


@client_app.command("list")
def client_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the clients."""
    from services.web import service as web_service

    async def go(db: Any) -> Any:
        return await web_service.all_clients(db, include_archived=True)

    clients = run(lambda: _with_web_session(go))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": c.id,
                        "name": c.name,
                        "slug": c.slug,
                        "locale": c.locale,
                        "archived": c.archived,
                    }
                    for c in clients
                ]
            )
        )
        return
    for c in clients:
        typer.echo(f"{c.id:>4}  {c.slug:<30} {c.name}{'  (archived)' if c.archived else ''}")


# ------------------------------------------------------------------------ users


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    role: Annotated[
        str, typer.Option(help="admin, strategist, community_manager or client_viewer.")
    ] = "strategist",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    client: Annotated[
        list[str] | None, typer.Option(help="Slug of a client to assign (repeat the option).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="Password; asked for when absent. Prefer the prompt or BALISE_PASSWORD.",
            envvar="BALISE_PASSWORD",
        ),
    ] = None,
) -> None:
    """Create a staff user and assign clients."""
    from sqlmodel import col, select

    from services.web import service as web_service
    from services.web.models import Client
    from shared.errors import DomainError

    if not password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def go(db: Any) -> Any:
        slugs = client or []
        rows = (await db.exec(select(Client).where(col(Client.slug).in_(slugs)))).all()
        missing = set(slugs) - {c.slug for c in rows}
        if missing:
            raise typer.BadParameter(f"unknown client(s): {', '.join(sorted(missing))}")
        return await web_service.create_user(
            db,
            email=email,
            name=name or email,
            password=password or "",
            role=role,
            client_ids=[c.id for c in rows],
        )

    try:
        user = run(lambda: _with_web_session(go))
    except DomainError as exc:
        _fail(exc.detail)
    typer.echo(f"Created user {user.id}: {user.email} ({user.role})")


# ------------------------------------------------------------------------ tokens


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="E-mail of the user the token acts for.")],
    name: Annotated[str, typer.Option(help="The tool that will use the token.")],
    client: Annotated[list[str], typer.Option(help="Client slug (repeat the option).")],
    service: Annotated[
        list[str] | None,
        typer.Option(help="ingest, benchmark or planner (repeat); all three when absent."),
    ] = None,
    scope: Annotated[str, typer.Option(help="read or write.")] = "read",
    days: Annotated[int | None, typer.Option(help="Expires after this many days.")] = 90,
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    from sqlmodel import col, select

    from services.web import service as web_service
    from services.web.models import Client, User
    from shared.errors import DomainError

    async def go(db: Any) -> Any:
        u = (await db.exec(select(User).where(User.email == user.strip().lower()))).first()
        if u is None:
            raise DomainError(f"No user {user}")
        rows = (await db.exec(select(Client).where(col(Client.slug).in_(client)))).all()
        missing = set(client) - {c.slug for c in rows}
        if missing:
            raise DomainError(f"Unknown client(s): {', '.join(sorted(missing))}")
        return await web_service.create_api_token(
            db,
            u,
            name=name,
            services=service or list(web_service.BACKENDS),
            client_ids=[c.id for c in rows],
            scope=scope,
            expires_in_days=days,
        )

    try:
        token, _row = run(lambda: _with_web_session(go))
    except DomainError as exc:
        _fail(exc.detail)
    typer.echo(token)


# ------------------------------------------------------------------------ import


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="The export: CSV, TSV, XLSX or XLS.")],
    client: Annotated[str, typer.Option("--client", help="Slug of the client it belongs to.")],
    account: Annotated[
        str | None,
        typer.Option(help="The account it belongs to: id, platform id or handle."),
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="Skip detection (see /v1/import-formats).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {format, posts, daily_rows, accounts, errors}.")
    ] = False,
) -> None:
    """Import a native export file, all or nothing; exits 1 when the file is refused."""
    from sqlmodel import select

    from services.ingest.config import IngestSettings
    from services.ingest.imports import service as imports_service
    from services.web.models import Client
    from shared.db import check_schema, create_sessionmaker, engine_from_settings
    from shared.errors import DomainError

    if not file.is_file():
        _fail(f"No file {file}", 2)

    async def find_client(db: Any) -> int:
        row = (await db.exec(select(Client).where(Client.slug == client))).first()
        if row is None or row.id is None:
            raise DomainError(f"No client {client!r}")
        return int(row.id)

    async def go() -> Any:
        client_id = await _with_web_session(find_client)
        engine = engine_from_settings(IngestSettings())
        try:
            await check_schema(engine)
            async with create_sessionmaker(engine)() as session:
                _imp, outcome = await imports_service.import_path(
                    session, client_id, file, account=account, format=format
                )
                await session.commit()
                return outcome
        finally:
            await engine.dispose()

    try:
        outcome = run(go)
    except DomainError as exc:
        _fail(exc.detail, 2)
    summary = outcome.summary()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "format": summary.format,
                    "posts": summary.posts,
                    "daily_rows": summary.daily_rows,
                    "accounts": summary.accounts,
                    "errors": [e.model_dump() for e in summary.errors],
                },
                ensure_ascii=False,
            )
        )
    elif outcome.refused:
        typer.secho(
            f"Refused {file.name}: {outcome.errors_total} error(s); nothing was stored.",
            fg=typer.colors.RED,
            err=True,
        )
        for e in summary.errors:
            where = (
                ", ".join(p for p in (f"row {e.row}" if e.row else "", e.column or "") if p)
                or "file"
            )
            shown = f" ({e.value!r})" if e.value not in (None, "") else ""
            typer.echo(f"  {where}{shown}: {e.reason}", err=True)
    else:
        c = outcome.counts
        written = c.written if c else 0
        typer.echo(
            f"Imported {file.name} as {summary.format}: {summary.posts} posts, "
            f"{summary.daily_rows} daily rows, {summary.accounts} account(s); "
            f"{written} row(s) new or corrected."
        )
    if outcome.refused:
        raise typer.Exit(1)


# ------------------------------------------------------------------------ worker


@app.command()
def worker(service: Annotated[str, typer.Argument(help="ingest, benchmark or planner.")]) -> None:
    """Run an arq worker for one service's queue (needs REDIS_URL)."""
    import importlib

    if service not in ("ingest", "benchmark", "planner"):
        _fail("SERVICE is ingest, benchmark or planner.", 2)
    if not os.environ.get("REDIS_URL") and not os.environ.get(f"{service.upper()}_REDIS_URL"):
        _fail("Set REDIS_URL to run a worker; without Redis, jobs run inside the services.")
    from arq.worker import run_worker

    from shared.logging import configure_logging

    mod = importlib.import_module(f"services.{service}.jobs")
    settings_cls = mod.worker_settings()
    configure_logging(f"{service}-worker")
    run_worker(settings_cls)


# ------------------------------------------------------------------------ demo & up


async def _database_is_empty() -> bool:
    from services.web import service as web_service

    return await _with_web_session(web_service.count_users) == 0


def load_demo() -> None:
    """Load the demo agency (deterministic); see services/demo."""
    from services.demo import load

    summary = asyncio.run(load())
    typer.echo(f"Demo agency loaded: {summary}")


@app.command()
def demo() -> None:
    """Load the demo agency into an empty database."""
    if not run(_database_is_empty):
        _fail("The database already has users; the demo loads only into an empty one.")
    load_demo()


def _serve_command(service: str, port: int, host: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"services.{service}.app:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "5",
    ]


def _wait_ready(
    urls: dict[str, str], procs: dict[str, subprocess.Popen[bytes]], timeout: float = 60
) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            if procs[name].poll() is not None:
                raise RuntimeError(f"{name} stopped while starting (exit {procs[name].returncode})")
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        raise RuntimeError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    with_demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo into an empty database.")
    ] = True,
) -> None:
    """Migrate, load the demo when the database is empty, start the four services."""
    settings = _web_settings()
    typer.echo(f"Database: {settings.database_url.split('@')[-1]}")
    migrate_database(settings.database_url)
    seeded = False
    if with_demo and run(_database_is_empty):
        typer.echo("Empty database: loading the demo agency (about a minute)…")
        load_demo()
        seeded = True
    ports = {"web": settings.port, "ingest": 8001, "benchmark": 8002, "planner": 8003}
    for svc in ("ingest", "benchmark", "planner"):
        env_port = os.environ.get(f"{svc.upper()}_PORT")
        if env_port:
            ports[svc] = int(env_port)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    env = dict(os.environ)
    # A terminal reads plain lines better; production (compose) keeps JSON logs.
    env.setdefault("LOG_JSON", "false")
    env.setdefault("WEB_INGEST_URL", f"http://{host}:{ports['ingest']}")
    env.setdefault("WEB_BENCHMARK_URL", f"http://{host}:{ports['benchmark']}")
    env.setdefault("WEB_PLANNER_URL", f"http://{host}:{ports['planner']}")
    for svc in ("ingest", "benchmark", "planner"):
        env.setdefault(f"{svc.upper()}_WEB_URL", f"http://{host}:{ports['web']}")
    env.setdefault("BENCHMARK_INGEST_URL", f"http://{host}:{ports['ingest']}")
    env.setdefault("PLANNER_INGEST_URL", f"http://{host}:{ports['ingest']}")
    env.setdefault("PLANNER_BENCHMARK_URL", f"http://{host}:{ports['benchmark']}")
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        for svc in ("ingest", "benchmark", "planner", "web"):
            # Their own session: Ctrl-C reaches only this process, which stops them with
            # SIGTERM (uvicorn's graceful stop, without a KeyboardInterrupt traceback).
            procs[svc] = subprocess.Popen(  # noqa: S603
                _serve_command(svc, ports[svc], host), env=env, start_new_session=True
            )
        _wait_ready({s: f"http://{host}:{p}" for s, p in ports.items()}, procs)
        typer.secho("\nBalise is running:", fg=typer.colors.GREEN, bold=True)
        typer.echo(f"  web        http://{host}:{ports['web']}")
        for svc in ("ingest", "benchmark", "planner"):
            typer.echo(f"  {svc:<10} http://{host}:{ports[svc]}/docs")
        if seeded or with_demo:
            typer.echo(f"\n  Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        typer.echo("\nCtrl-C stops everything.")
        while not stopping:
            for name, p in procs.items():
                if p.poll() is not None:
                    typer.secho(f"{name} exited ({p.returncode}); stopping.", fg=typer.colors.RED)
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
    finally:
        typer.echo("\nStopping…")
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in procs.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        typer.echo("Stopped.")


SETTINGS_CLASSES = (
    ("web", "services.web.config", "WebSettings"),
    ("ingest", "services.ingest.config", "IngestSettings"),
    ("benchmark", "services.benchmark.config", "BenchmarkSettings"),
    ("planner", "services.planner.config", "PlannerSettings"),
)


def env_documentation() -> str:
    """Every environment variable of every service, with its description and default."""
    import importlib

    from shared.settings import SHARED_ENV

    lines = [
        "# Balise environment variables (generated by `balise env-example`; do not edit).",
        "# Shared by every service (a prefixed variable overrides it for one service):",
        "",
    ]
    seen_shared: set[str] = set()
    sections: list[str] = []
    for svc, mod, cls_name in SETTINGS_CLASSES:
        cls = getattr(importlib.import_module(mod), cls_name)
        prefix = cls.model_config.get("env_prefix", "")
        section = [f"# --- {svc} ({prefix}*) ---"]
        for name, field in cls.model_fields.items():
            desc = (field.description or "").strip()
            default = field.default
            if hasattr(default, "get_secret_value"):
                default = ""
            shown = "" if default is None else str(default)
            if name == "var_dir":
                shown = "./var"
            alias = field.validation_alias
            env_names: list[str] = []
            if alias is not None and hasattr(alias, "choices"):
                env_names = [str(c) for c in alias.choices]
            if name in SHARED_ENV and SHARED_ENV[name] not in seen_shared:
                seen_shared.add(SHARED_ENV[name])
                lines += [f"# {desc}", f"# {SHARED_ENV[name]}={shown}", ""]
            if env_names:
                for env in env_names:
                    if env not in seen_shared:
                        seen_shared.add(env)
                        lines += [f"# {desc}", f"# {env}={shown}", ""]
                continue
            section += [f"# {desc}", f"# {prefix}{name.upper()}={shown}"]
        sections.append("\n".join(section))
    return "\n".join(lines) + "\n" + "\n\n".join(sections) + "\n"


@app.command("env-example")
def env_example() -> None:
    """Print the documented list of environment variables (the source of .env.example)."""
    typer.echo(env_documentation(), nl=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
