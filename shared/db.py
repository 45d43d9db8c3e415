"""Async database access shared by the services.

SQLite (WAL, busy timeout, foreign keys) is the embedded default; PostgreSQL through
asyncpg when ``DATABASE_URL`` says so. The request owns the transaction: the session
dependency commits when the endpoint returns and rolls back when it raises, and no
other code commits (repositories ``flush()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import types
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import ServiceUnavailable
from shared.settings import ServiceSettings, async_url

log = logging.getLogger("balise.db")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _json_serializer(value: Any) -> str:
    """JSON columns serialise with ``json.dumps``; a ``bytes`` value (which ``json.dumps``
    refuses) is JSON text already serialised, e.g. by orjson straight from NumPy arrays,
    and is stored as it is."""
    return value.decode() if isinstance(value, bytes) else json.dumps(value)


def create_engine(
    url: str, *, busy_timeout_ms: int = 10_000, pool_size: int = 10, max_overflow: int | None = None
) -> AsyncEngine:
    """Create the async engine for ``url`` with the pragmas or pool Balise relies on."""
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000},
            json_serializer=_json_serializer,
            # Sessions always end their transaction (commit, or rollback on close): the
            # pool's own reset would be one more round trip per request.
            pool_reset_on_return=None,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=5,
        pool_reset_on_return=None,
        # No pre-ping (a round trip per request): after a PostgreSQL restart the first
        # failed use invalidates the whole pool, that request answers 503, and the next
        # ones reconnect by themselves.
        # Fail fast when PostgreSQL is unreachable so requests answer 503 quickly.
        connect_args={"timeout": 5, "command_timeout": 60},
        json_serializer=_json_serializer,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine for read-only statements: each runs on its own (the driver's
    autocommit), so a read costs one round trip instead of BEGIN, query and COMMIT.

    PostgreSQL's READ COMMITTED gives each statement its own snapshot inside a
    transaction too, so its readers see exactly what they saw before. The connection goes
    back to the pool in its usual transactional mode.
    """
    if engine.dialect.name == "sqlite":
        # pysqlite opens no transaction for a SELECT, so reads cost no BEGIN there; and
        # switching an aiosqlite connection to autocommit and back is two more hops to
        # its thread per request.
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for read-only requests, on :func:`read_engine`."""
    return async_sessionmaker(
        read_engine(engine), class_=AsyncSession, expire_on_commit=False, autoflush=False
    )


def engine_from_settings(settings: ServiceSettings) -> AsyncEngine:
    return create_engine(
        settings.database_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
    )


_DB_DOWN = (OSError, ConnectionError, TimeoutError)


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached (or its pool is exhausted)."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    # A pool with no free connection in time is an overloaded database: fail fast too.
    if isinstance(exc, (*_DB_DOWN, PoolTimeout)) or _driver_disconnect(exc):
        return True
    if isinstance(exc, (OperationalError, InterfaceError)):
        msg = str(exc).lower()
        return (
            any(
                s in msg
                for s in ("connect", "connection", "terminat", "shutdown", "closed", "timeout")
            )
            and "database is locked" not in msg
        )
    return bool(isinstance(exc, DBAPIError) and exc.connection_invalidated)


def _unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 a failure to reach the database answers (None for any other error)."""
    if not is_connection_error(exc):
        return None
    log.warning("database unavailable: %s", type(exc).__name__)
    return database_unavailable()


def _raise_as_unavailable(exc: BaseException) -> NoReturn:
    """Raise the 503 of an unreachable database for a connection error, ``exc`` itself
    for any other (called from the ``except`` of a session or connection scope)."""
    unavailable = _unavailable(exc)
    if unavailable is not None:
        raise unavailable from exc
    raise exc


def database_unavailable() -> ServiceUnavailable:
    """The 503 problem of an unreachable database (fail fast; the caller retries)."""
    return ServiceUnavailable(
        "The database is unreachable; try again shortly.", headers={"Retry-After": "5"}
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: commits on success, rolls back on error."""
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    session = maker()
    try:
        yield session
        await session.commit()
    except BaseException as exc:
        await session.rollback()
        _raise_as_unavailable(exc)
    else:
        # Jobs and webhook deliveries are submitted only once their rows are committed.
        from shared.jobs import run_after_commit

        await run_after_commit(session)
    finally:
        await session.close()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class ReadQuery:
    """A prebuilt read-only statement for the hottest reads (the job list every client
    page asks each backend for, the session lookup before every page), run by a
    :class:`HotReader`.

    On PostgreSQL it is compiled once and runs straight on an asyncpg connection: Core's
    execution around the driver (execution context, cursor adaptation, result object)
    cost ~0.33 ms of CPU per call against ~0.17 ms this way. Elsewhere it runs through
    Core. Either way the values pass through the columns' own result processors, so the
    rows hold what Core would give (parsed JSON, datetimes).
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._pg: tuple[str, list[str], dict[str, Any], list[Any]] | None = None

    def _compiled(self, dialect: Any) -> tuple[str, list[str], dict[str, Any], list[Any]]:
        if self._pg is None:
            compiled = self.statement.compile(dialect=dialect)
            processors = [
                c.type.dialect_impl(dialect).result_processor(dialect, None)
                for c in self.statement.selected_columns
            ]
            # The values written into the statement (``role == 'admin'``) are binds too.
            fixed = {k: b.effective_value for k, b in compiled.binds.items() if not b.required}
            self._pg = (compiled.string, list(compiled.positiontup or ()), fixed, processors)
        return self._pg

    async def fetch(
        self, driver: Any, dialect: Any, params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The rows from an asyncpg connection ``driver``, as tuples in column order."""
        sql, names, fixed, processors = self._compiled(dialect)
        values = [params[n] if n in params else fixed[n] for n in names]
        records = await driver.fetch(sql, *values)
        if not any(processors):
            return [tuple(r) for r in records]
        return [
            tuple(v if p is None or v is None else p(v) for p, v in zip(processors, r, strict=True))
            for r in records
        ]

    async def all(self, conn: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows on a Core connection ``conn`` (what a :class:`HotReader` does on SQLite,
        and in tests that read through their own transaction)."""
        if conn.dialect.name != "postgresql":
            return [tuple(r) for r in (await conn.execute(self.statement, params)).all()]
        raw = await conn.get_raw_connection()
        try:
            return await self.fetch(raw.driver_connection, conn.dialect, params)
        except Exception as exc:
            if _driver_disconnect(exc):
                # Core would have invalidated the connection: a dead one must not go
                # back to the pool, or every later read would fail on it.
                await conn.invalidate()
                raise ConnectionError("the database connection was lost") from exc
            raise


#: seconds a hot read may take (a session lookup, a job list) before it answers 503
HOT_READ_TIMEOUT = 10


async def _no_reset(_conn: Any) -> None:
    """A hot connection needs no reset on release: it runs prebuilt SELECTs outside any
    transaction, or a push batch in a transaction the writer ends, and sets no session
    state (a transaction left open all the same is rolled back by asyncpg's own
    ``_reset``, which runs before this one)."""


class HotReader:
    """Runs the hottest reads (:class:`ReadQuery`) with the least work per call.

    On PostgreSQL: a small asyncpg pool of its own (``size`` connections at most, opened
    on demand, none at start). Taking a connection from SQLAlchemy's pool ran its checkout
    and checkin events, the isolation-level switch and three greenlet spawns (each one
    ``mmap``/``munmap`` of a stack), about a fifth of a job-list request's CPU; asyncpg's
    pool hands out a connection with none of that. Each read runs on its own (no
    BEGIN/COMMIT); a release costs no round trip (:func:`_no_reset`). The ingest push
    writer also takes its warm batches' connections here (:meth:`driver`), each in a
    transaction it opens and ends itself.

    On SQLite, the engine's Core connections (autocommit reads cost nothing there).
    An unreachable database answers 503, as everywhere else.
    """

    def __init__(self, engine: AsyncEngine, *, size: int = 5) -> None:
        self.engine = engine
        self.size = size
        self._pool: Any = None
        self._dialect = engine.dialect
        # Where there is no pool of its own (SQLite, or not started): Core connections.
        self._core = SharedReader(read_engine(engine).connect)

    async def start(self) -> None:
        if self._dialect.name != "postgresql" or self._pool is not None:
            return
        import asyncpg

        url = self.engine.url.set(drivername="postgresql")
        self._pool = await asyncpg.create_pool(
            url.render_as_string(hide_password=False),
            min_size=0,
            max_size=self.size,
            reset=_no_reset,
            init=self._init_connection,
            timeout=5,  # fail fast when PostgreSQL is unreachable (as the engine does)
            # These reads are small indexed lookups; a query held longer than this means
            # a stuck database, and it also bounds the wait for a free connection below.
            command_timeout=HOT_READ_TIMEOUT,
        )

    async def _init_connection(self, driver: Any) -> None:
        """Decode JSON (and the rest) as the engine's own connections do: the dialect's
        codec setup, run on this connection (it expects an adapted one)."""
        adapted = types.SimpleNamespace(_connection=driver)
        dialect: Any = self._dialect  # PGDialect_asyncpg
        await dialect.setup_asyncpg_json_codec(adapted)
        await dialect.setup_asyncpg_jsonb_codec(adapted)
        if getattr(dialect, "_native_inet_types", None) is False:
            await dialect._disable_asyncpg_inet_codecs(adapted)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except (TimeoutError, OSError):
                pool.terminate()

    def driver(self) -> contextlib.AbstractAsyncContextManager[Any] | None:
        """One of the pool's asyncpg connections, for a caller that speaks to the driver
        itself (the push writer's warm batches, in a transaction of their own); None
        where there is no pool (SQLite, or before start)."""
        if self._pool is None:
            return None
        acquired: contextlib.AbstractAsyncContextManager[Any] = self._pool.acquire()
        return acquired

    async def all(self, query: ReadQuery, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of ``query``; a lost or unreachable database raises the 503."""
        if self._pool is None:
            return await self._core.all(query, params)
        try:
            # No acquire timeout: asyncpg runs a timed acquire as a task of its own (a
            # tenth of a job list's CPU); the wait is bounded all the same, each query
            # ahead holding its connection HOT_READ_TIMEOUT seconds at most.
            async with self._pool.acquire() as driver:
                return await query.fetch(driver, self._dialect, params)
        except Exception as exc:
            # A query past its timeout is a TimeoutError: 503 too.
            if _driver_disconnect(exc):
                log.warning("database unavailable: %s", type(exc).__name__)
                raise database_unavailable() from exc
            raise


class SharedReader:
    """Reads :class:`ReadQuery` statements through the Core connection ``connect`` yields:
    a :class:`HotReader`'s way on SQLite, and the tests' stand-in for one (they hand
    their own transaction here, so reads see its uncommitted rows)."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self.connect = connect

    async def all(self, query: ReadQuery, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        async with read_connection(self.connect) as conn:
            return await query.all(conn, params)


def _driver_disconnect(exc: BaseException) -> bool:
    """Whether an asyncpg error means the connection is gone (class 08 connection
    exceptions, class 57 shutdowns, a connection closed under or before the query). A
    misuse of a live connection ("another operation is in progress") is not one."""
    if isinstance(exc, _DB_DOWN):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in ("08", "57"):
        return True
    name = type(exc).__name__
    if name == "ConnectionDoesNotExistError":
        return True
    return name == "InterfaceError" and "connection is closed" in str(exc)


@contextlib.asynccontextmanager
async def read_connection(connect: Callable[[], Any]) -> AsyncIterator[Any]:
    """A read-only Core connection from ``connect`` (``app.state.read_connect``), for the
    hottest reads that skip the ORM; an unreachable database answers 503."""
    try:
        async with connect() as conn:
            yield conn
    except Exception as exc:
        _raise_as_unavailable(exc)


@contextlib.asynccontextmanager
async def read_session(
    maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A read-only session (see :func:`create_read_sessionmaker`): an unreachable
    database answers 503, and changes given to it are an error, never written."""
    session = maker()
    try:
        yield session
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a read-only session was given changes to write")
    except BaseException as exc:
        _raise_as_unavailable(exc)
    finally:
        await session.close()


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only request's session. A route that writes takes :data:`SessionDep`."""
    async with read_session(request.app.state.read_sessionmaker) as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


def alembic_config(url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS_DIR.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@functools.cache
def code_heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def database_heads(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        try:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
        except Exception:
            return set()
        return {r[0] for r in rows}


class SchemaBehind(RuntimeError):
    pass


async def check_schema(engine: AsyncEngine) -> None:
    """Raise :class:`SchemaBehind` with the command to run when the schema is not at head."""
    expected = code_heads()
    current = await database_heads(engine)
    if current != expected:
        raise SchemaBehind(
            f"The database schema is at {sorted(current) or 'nothing (empty database)'} but "
            f"this code needs {sorted(expected)}. Run `balise migrate` "
            f"(or `alembic upgrade head`) against this DATABASE_URL, then start again."
        )


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
