"""Test harness: a real database (SQLite or PostgreSQL) migrated once per run.

``BALISE_TEST_DB=sqlite`` (default) uses a fresh SQLite file; ``BALISE_TEST_DB=postgres``
uses ``TEST_DATABASE_URL`` (default postgresql://postgres@127.0.0.1:5432/balise_test),
dropped and recreated at the start of the run. Redis tests use ``TEST_REDIS_URL``
(default redis://127.0.0.1:6379/15). With ``CI=true`` an unreachable server fails the run
with a clear message instead of skipping.

Fixtures:
* ``db``: a session inside a transaction rolled back after the test.
* ``backend(name)`` / ``web_app``: the real apps, their sessions bound to the test's
  transaction, with an httpx client over ASGI.
* ``live``: the apps on the committed database (for jobs, which open their own sessions).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

os.environ.setdefault("BALISE_ENV", "test")
os.environ.setdefault("LOG_JSON", "true")

TEST_SECRET = "test-secret-key-for-balise-tests-only-0123456789"
UNWIRED = "http://127.0.0.1:9"
DB_KIND = os.environ.get("BALISE_TEST_DB", "sqlite")
CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pg_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/balise_test")


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _require(kind: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    msg = (
        f"{kind} is not reachable at {url}. Start it or point "
        f"{'TEST_DATABASE_URL' if kind == 'PostgreSQL' else 'TEST_REDIS_URL'} at one."
    )
    if CI:
        pytest.exit(f"CI=true and {msg}", returncode=3)
    pytest.skip(msg)


async def _recreate_pg(url: str) -> None:
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "balise_test"
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DB_KIND == "postgres":
        url = pg_url()
        _require("PostgreSQL", url, 5432)
        asyncio.run(_recreate_pg(url))
        return url
    path: Path = tmp_path_factory.mktemp("db") / "balise-test.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    from alembic import command

    from shared.db import alembic_config

    command.upgrade(alembic_config(database_url), "head")
    return database_url


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


def settings_for(cls: type, database_url: str, var_dir: Path, **overrides: Any) -> Any:
    """Settings of one service pointing at the test database."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "var_dir": var_dir,
        "environment": "test",
        "redis_url": "",
        "log_json": True,
        # A test process starts hundreds of apps: freezing its heap each time would keep
        # every earlier test's garbage (tests/test_app_heap.py covers the setting).
        "gc_freeze": False,
    }
    # Another service a test did not wire in is unreachable (port 9 refuses), never the
    # default localhost port where a developer's own `balise up` may be listening.
    fields = getattr(cls, "model_fields", {})
    for name in ("web_url", "ingest_url", "benchmark_url", "planner_url"):
        if name in fields:
            values[name] = UNWIRED
    values.update(overrides)
    return cls(**values)


@pytest.fixture(scope="session")
async def engine(migrated: str) -> AsyncIterator[AsyncEngine]:
    from shared.db import create_engine

    eng = create_engine(migrated)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
async def txn_engine(migrated: str) -> AsyncIterator[AsyncEngine]:
    """The engine of the rolled-back test transactions (``db``).

    pysqlite only opens a transaction before DML and mishandles SAVEPOINT, so on SQLite
    the test's transaction would not hold what a request commits inside it. SQLAlchemy's
    documented remedy, applied to this engine only (the apps' own engine keeps the
    production behaviour): the driver emits no BEGIN, we emit it ourselves.
    """
    from sqlalchemy import event

    from shared.db import create_engine

    eng = create_engine(migrated)
    if eng.dialect.name == "sqlite":

        @event.listens_for(eng.sync_engine, "connect")
        def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(eng.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

    yield eng
    await eng.dispose()


@pytest.fixture
async def connection(txn_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with txn_engine.connect() as conn:
        trans = await conn.begin()
        try:
            yield conn
        finally:
            if trans.is_active:
                await trans.rollback()


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session whose commits are savepoints inside the test's rolled-back transaction."""
    session = AsyncSession(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield session
    finally:
        await session.close()


def token_for(
    client_ids: list[int],
    *,
    role: str = "strategist",
    scope: str = "write",
    user_id: int = 1,
    audience: tuple[str, ...] = ("ingest", "benchmark", "planner"),
    ttl: int = 300,
) -> str:
    from shared.auth import mint_service_token

    return mint_service_token(
        TEST_SECRET,
        subject=str(user_id),
        kind="user",
        role=role,
        client_ids=client_ids,
        scope=scope,
        audience=audience,
        ttl=ttl,
    )


def auth(client_ids: list[int], **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(client_ids, **kw)}"}


def new_client_id() -> int:
    """A client id no other test uses (tenancy makes tests independent of each other)."""
    return uuid.uuid4().int % 1_000_000_000 + 1_000_000


SERVICE_FACTORIES = {
    "ingest": ("services.ingest.app", "services.ingest.config", "IngestSettings"),
    "benchmark": ("services.benchmark.app", "services.benchmark.config", "BenchmarkSettings"),
    "planner": ("services.planner.app", "services.planner.config", "PlannerSettings"),
    "web": ("services.web.app", "services.web.config", "WebSettings"),
}


def build_app(
    name: str,
    database_url: str,
    var_dir: Path,
    engine: AsyncEngine | None = None,
    factory_kwargs: dict[str, Any] | None = None,
    **overrides: Any,
) -> Any:
    """One service's real app on the test database; ``factory_kwargs`` go to its
    ``create_app`` (e.g. the transports that mount other services in-process)."""
    import importlib

    app_mod, cfg_mod, cls_name = SERVICE_FACTORIES[name]
    cls = getattr(importlib.import_module(cfg_mod), cls_name)
    settings = settings_for(cls, database_url, var_dir, **overrides)
    factory = importlib.import_module(app_mod).create_app
    return factory(settings=settings, engine=engine, **(factory_kwargs or {}))


@contextlib.asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    async with app.router.lifespan_context(app):
        yield app


def bind_session(app: Any, session: AsyncSession) -> None:
    """Make the app's requests use the test's session (and so its transaction)."""
    from shared.db import get_session

    async def _override() -> AsyncIterator[AsyncSession]:
        from shared.jobs import run_after_commit

        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        else:
            await run_after_commit(session)

    app.dependency_overrides[get_session] = _override
    share_reads(app, session)
    writer = getattr(app.state, "push_writer", None)
    if writer is not None:  # ingest's pushes are written outside the request's session
        writer.transaction = contextlib.asynccontextmanager(_override)
        writer.concurrency = 1  # one session: one batch at a time
        writer.hot = None  # and no connection of its own


class _SharedRead:
    """The test's session lent as a request's read-only session: closing it is the
    test's business, and the test's own pending changes are not the request's."""

    new: frozenset[Any] = frozenset()
    dirty: frozenset[Any] = frozenset()
    deleted: frozenset[Any] = frozenset()

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    async def close(self) -> None:
        pass

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass


def share_reads(app: Any, session: AsyncSession) -> None:
    """Make the app's read-only sessions (``ReadSessionDep``, the web viewer's) read
    through the test's session, so they see its uncommitted rows."""
    from shared.db import SharedReader, get_read_session

    async def _read() -> AsyncIterator[Any]:
        yield _SharedRead(session)

    app.dependency_overrides[get_read_session] = _read
    app.state.read_sessionmaker = lambda: _SharedRead(session)

    @contextlib.asynccontextmanager
    async def _connect() -> AsyncIterator[Any]:
        yield await session.connection()  # the test's transaction, as a Core connection

    app.state.reader = SharedReader(_connect)


@pytest.fixture
def make_backend(
    migrated: str, var_dir: Path, engine: AsyncEngine, db: AsyncSession
) -> Callable[..., Any]:
    """``async with make_backend("ingest") as (app, client):`` — transactional."""

    @contextlib.asynccontextmanager
    async def _make(name: str, **overrides: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
        overrides.setdefault("run_jobs_in_process", False)
        app = build_app(name, migrated, var_dir, engine=engine, **overrides)
        async with running(app):
            bind_session(app, db)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as c:
                yield app, c

    return _make


@pytest.fixture
def make_live_backend(migrated: str, var_dir: Path) -> Callable[..., Any]:
    """Like ``make_backend`` but on the committed database with the in-process runner."""

    @contextlib.asynccontextmanager
    async def _make(name: str, **overrides: Any) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
        app = build_app(name, migrated, var_dir, **overrides)
        async with running(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as c:
                yield app, c

    return _make


@pytest.fixture(scope="session")
def redis_dsn() -> str:
    url = redis_url()
    _require("Redis", url, 6379)
    return url
