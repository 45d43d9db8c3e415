"""Driver-level upserts of fact rows: the fast half of the store loader.

The handbook's PERFORMANCE.md measured it: the ORM loads ~11–15k rows/s, SQLAlchemy Core
~160–200k, the raw drivers 400k+. So fact rows (daily metrics, post metric snapshots,
web metrics) bypass SQLAlchemy and go straight to the driver underneath the caller's
connection, inside the caller's transaction:

* **SQLite**: ``executemany`` on aiosqlite's own thread, one call per batch: a plain
  ``INSERT`` while the keys are new, then ``INSERT … ON CONFLICT (key) DO UPDATE … WHERE
  the value differs`` from the first key that exists (SQLite runs the upsert at half
  the speed of an insert inside a savepoint).
* **PostgreSQL**: binary ``COPY`` (asyncpg ``copy_records_to_table``) into a temporary
  staging table without indexes (dropped at commit), then one
  ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE the value differs`` per batch,
  which the server runs while the loader reads the next batch. A small batch (a push, a
  sync of a few weeks) skips the staging table: its columns go as arrays into one
  ``INSERT … SELECT … FROM unnest(…)`` with the same conflict rule.

"The value differs" is what makes a reload idempotent: re-loading the same rows writes
nothing, a different value for the same key corrects the row (and its source). How many
rows a batch wrote (inserted or corrected) is handed to a *sink* once known.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects import postgresql
from sqlmodel import SQLModel

from services.ingest.store.models import (
    DailyMetric,
    PostMetric,
    PostMetricLatest,
    WebMetric,
    WebPeriodMetric,
)


@dataclass(frozen=True)
class UpsertSpec:
    """One target table: its columns (in row-tuple order), unique key and update rule."""

    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    #: columns overwritten on conflict (from the incoming row)
    update: tuple[str, ...]
    #: SQL condition under which a conflicting row is rewritten; ``{t}`` is the table and
    #: ``{x}`` the incoming row (``excluded``); ``{ne}`` is the null-safe "differs".
    when: str = "{t}.value {ne} {x}.value"
    #: when one batch holds the same key twice: keep the last row, or the one whose
    #: ``keep_max`` column is largest
    keep_max: str | None = None

    def key_index(self) -> tuple[int, ...]:
        return tuple(self.columns.index(k) for k in self.key)


#: receives how many rows a batch inserted or changed, once it is known
Sink = Callable[[int], None]

_FACT_UPDATE = ("value", "source_id", "source_row")

DAILY = UpsertSpec(
    table=DailyMetric.__tablename__,
    columns=("account_id", "metric", "day", "value", "source_id", "source_row"),
    key=("account_id", "metric", "day"),
    update=_FACT_UPDATE,
)
POST_METRIC = UpsertSpec(
    table=PostMetric.__tablename__,
    columns=("post_id", "snapshot_date", "metric", "value", "source_id", "source_row"),
    key=("post_id", "snapshot_date", "metric"),
    update=_FACT_UPDATE,
)
POST_METRIC_LATEST = UpsertSpec(
    table=PostMetricLatest.__tablename__,
    columns=("post_id", "metric", "snapshot_date", "value"),
    key=("post_id", "metric"),
    update=("snapshot_date", "value"),
    # Only a newer snapshot moves "latest"; a correction of the latest snapshot rewrites
    # it; a correction of an older snapshot leaves it alone.
    when="({x}.snapshot_date > {t}.snapshot_date OR ({x}.snapshot_date = {t}.snapshot_date "
    "AND {t}.value {ne} {x}.value))",
    keep_max="snapshot_date",
)
WEB_DAILY = UpsertSpec(
    table=WebMetric.__tablename__,
    columns=(
        "account_id",
        "day",
        "dimension",
        "dimension_value",
        "metric",
        "value",
        "source_id",
        "source_row",
    ),
    key=("account_id", "day", "dimension", "dimension_value", "metric"),
    update=_FACT_UPDATE,
)
WEB_PERIOD = UpsertSpec(
    table=WebPeriodMetric.__tablename__,
    columns=(
        "account_id",
        "period_start",
        "period_end",
        "dimension",
        "dimension_value",
        "metric",
        "value",
        "source_id",
        "source_row",
    ),
    key=("account_id", "period_start", "period_end", "dimension", "dimension_value", "metric"),
    update=_FACT_UPDATE,
)


def dedupe(spec: UpsertSpec, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Collapse rows sharing a key within one batch (PostgreSQL's ON CONFLICT refuses to
    touch a row twice in one statement): the last one wins, or the largest ``keep_max``."""
    idx = spec.key_index()
    if spec.keep_max is None:
        if len(idx) == 3:
            a, b, c = idx
            uniq = {(r[a], r[b], r[c]): r for r in rows}
        else:
            uniq = {tuple(r[i] for i in idx): r for r in rows}
        return rows if len(uniq) == len(rows) else list(uniq.values())
    m = spec.columns.index(spec.keep_max)
    best: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for r in rows:
        k = tuple(r[i] for i in idx)
        cur = best.get(k)
        if cur is None or r[m] >= cur[m]:
            best[k] = r
    return rows if len(best) == len(rows) else list(best.values())


class SqliteWriter:
    """Upserts through aiosqlite's connection (the caller's, in its transaction)."""

    dialect = "sqlite"

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._sql: dict[str, str] = {}

    def sql(self, spec: UpsertSpec) -> str:
        cached = self._sql.get(spec.table)
        if cached is None:
            sets = ", ".join(f"{c} = excluded.{c}" for c in spec.update)
            when = spec.when.format(t=spec.table, x="excluded", ne="IS NOT")
            cached = (
                f"INSERT INTO {spec.table} ({', '.join(spec.columns)}) "  # noqa: S608 - identifiers are this module's constants
                f"VALUES ({', '.join('?' for _ in spec.columns)}) "
                f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets} WHERE {when}"
            )
            self._sql[spec.table] = cached
        return cached

    async def begin(self) -> None:
        # pysqlite opens a transaction only before DML; a SAVEPOINT issued outside one
        # becomes the outermost transaction and its RELEASE would commit. Open the
        # caller's transaction explicitly so that the loader's savepoint nests in it.
        if not self.raw.in_transaction:
            await self.raw.execute("BEGIN")

    def insert_sql(self, spec: UpsertSpec) -> str:
        key = spec.table + ":insert"
        cached = self._sql.get(key)
        if cached is None:
            cached = (
                f"INSERT INTO {spec.table} ({', '.join(spec.columns)}) "  # noqa: S608 - constants
                f"VALUES ({', '.join('?' for _ in spec.columns)})"
            )
            self._sql[key] = cached
        return cached

    async def upsert(self, spec: UpsertSpec, rows: Sequence[tuple[Any, ...]], sink: Sink) -> None:
        """Write ``rows``; ``sink`` gets how many were inserted or changed.

        New rows go in with a plain INSERT first: inside the loader's savepoint SQLite
        runs an upsert at half the speed of an insert (measured), and a first import
        only has new rows. At the first row whose key exists (a re-import, a correction,
        a key twice in the batch) the INSERT stops, the rows before it stay, and the
        rest of the batch goes through the upsert.
        """
        if not rows:
            return
        before = self.raw.total_changes
        try:
            cur = await self.raw.executemany(self.insert_sql(spec), rows)
            await cur.close()
            sink(len(rows))
            return
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
        inserted = self.raw.total_changes - before
        cur = await self.raw.executemany(self.sql(spec), rows[inserted:])
        sink(inserted + int(cur.rowcount))
        await cur.close()

    async def settle(self) -> None:
        """Nothing runs in the background on SQLite (see PostgresWriter.settle)."""

    async def abort(self) -> None:
        return None


#: Up to this many rows, a batch is upserted with one ``INSERT … SELECT … unnest`` on
#: PostgreSQL instead of the staging table.
SMALL_BATCH = 2_000


@functools.cache
def unnest_sql(spec: UpsertSpec) -> str:
    """The upsert of any number of rows as one statement: each column passed as one
    array, ``unnest`` turning them back into rows. The same text whatever the count, so
    the driver prepares it once per connection."""
    cols = ", ".join(spec.columns)
    arrays = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(_array_types(spec)))
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in spec.update)
    when = spec.when.format(t=spec.table, x="EXCLUDED", ne="IS DISTINCT FROM")
    return (
        f"WITH w AS (INSERT INTO {spec.table} ({cols}) "  # noqa: S608 - constants
        f"SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets} "
        f"WHERE {when} RETURNING 1) SELECT count(*) FROM w"
    )


def _array_types(spec: UpsertSpec) -> list[str]:
    """Each column's PostgreSQL type, as the element type of the array it is passed in.

    Strings go as ``text``: an explicit cast to ``varchar(n)`` would cut a longer value
    silently, where the INSERT's own assignment to the column refuses it.
    """
    table = SQLModel.metadata.tables[spec.table]
    out = []
    for name in spec.columns:
        col_type = table.c[name].type
        # SQLModel's AutoString is a decorator around String
        if isinstance(col_type, String) or isinstance(getattr(col_type, "impl", None), String):
            out.append("text")
        else:
            out.append(col_type.compile(dialect=postgresql.dialect()))
    return out


class PostgresWriter:
    """Upserts through asyncpg: binary COPY into a staging table, then one INSERT.

    The INSERT … SELECT of a batch runs on the server while the loader reads the next
    batch (PostgreSQL works in its own process): :meth:`upsert` returns as soon as the
    statement is sent, and the next use of the connection waits for it first
    (:meth:`settle`). Whoever uses the connection otherwise must settle before.
    """

    dialect = "postgresql"

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._staged: set[str] = set()
        self._sql: dict[str, str] = {}
        self._pending: tuple[asyncio.Future[int], Sink] | None = None

    async def begin(self) -> None:
        return None

    def in_transaction(self) -> bool:
        return bool(self.raw.is_in_transaction())

    def _stage(self, spec: UpsertSpec) -> str:
        return f"balise_stage_{spec.table}"

    def sql(self, spec: UpsertSpec) -> str:
        cached = self._sql.get(spec.table)
        if cached is None:
            cols = ", ".join(spec.columns)
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in spec.update)
            when = spec.when.format(t=spec.table, x="EXCLUDED", ne="IS DISTINCT FROM")
            cached = (
                f"WITH w AS (INSERT INTO {spec.table} ({cols}) "  # noqa: S608 - constants
                f"SELECT {cols} FROM {self._stage(spec)} "
                f"ON CONFLICT ({', '.join(spec.key)}) DO UPDATE SET {sets} WHERE {when} "
                f"RETURNING 1) SELECT count(*) FROM w"
            )
            self._sql[spec.table] = cached
        return cached

    async def _ensure_stage(self, spec: UpsertSpec) -> None:
        if spec.table in self._staged:
            return
        # Same column types as the target, no defaults, no indexes, gone at commit (or
        # with the rollback of the savepoint that created it).
        await self.raw.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {self._stage(spec)} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {', '.join(spec.columns)} FROM {spec.table} WITH NO DATA"
        )
        await self.raw.execute(f"TRUNCATE {self._stage(spec)}")
        self._staged.add(spec.table)

    async def upsert(self, spec: UpsertSpec, rows: Sequence[tuple[Any, ...]], sink: Sink) -> None:
        if not rows:
            return
        await self.settle()
        rows = dedupe(spec, list(rows))
        if len(rows) <= SMALL_BATCH:
            # A push batch or a sync of a few weeks: a staging table (created, truncated
            # and dropped in the transaction, each a catalogue change) would cost more
            # than the rows themselves. One fixed statement, one round trip.
            columns = [list(col) for col in zip(*rows, strict=True)]
            sink(int(await self.raw.fetchval(unnest_sql(spec), *columns) or 0))
            return
        await self._ensure_stage(spec)
        stage = self._stage(spec)
        await self.raw.copy_records_to_table(stage, records=rows, columns=list(spec.columns))
        self._pending = (asyncio.ensure_future(self._apply(spec, stage)), sink)
        # Let the task send its statement; the server then works while we read on.
        await asyncio.sleep(0)

    async def _apply(self, spec: UpsertSpec, stage: str) -> int:
        written = await self.raw.fetchval(self.sql(spec))
        await self.raw.execute(f"TRUNCATE {stage}")
        return int(written or 0)

    async def settle(self) -> None:
        """Wait for the batch the server is still writing (its errors surface here)."""
        if self._pending is None:
            return
        task, sink = self._pending
        self._pending = None
        sink(await task)

    async def abort(self) -> None:
        """After a failure: wait for the batch in flight (ignoring its fate) so that the
        connection is free for the rollback."""
        if self._pending is None:
            return
        task, _ = self._pending
        self._pending = None
        with contextlib.suppress(Exception):
            await task


Writer = SqliteWriter | PostgresWriter
