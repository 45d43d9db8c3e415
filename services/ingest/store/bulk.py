"""Driver-level upserts of fact rows: the fast half of the store loader.

The handbook's PERFORMANCE.md measured it: the ORM loads ~11–15k rows/s, SQLAlchemy Core
~160–200k, the raw drivers 400k+. So fact rows (daily metrics, post metric snapshots,
web metrics) bypass SQLAlchemy and go straight to the driver underneath the caller's
connection, inside the caller's transaction:

* **SQLite**: ``executemany`` of ``INSERT … ON CONFLICT (key) DO UPDATE … WHERE the value
  differs``, one statement per batch, on aiosqlite's own thread.
* **PostgreSQL**: binary ``COPY`` (asyncpg ``copy_records_to_table``) into a temporary
  staging table without indexes (dropped at commit), then one
  ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE the value differs`` per batch.

"The value differs" is what makes a reload idempotent: re-loading the same rows writes
nothing, a different value for the same key corrects the row (and its source). Each
upsert returns how many rows it wrote (inserted or corrected).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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

    async def upsert(self, spec: UpsertSpec, rows: Sequence[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        cur = await self.raw.executemany(self.sql(spec), rows)
        written = int(cur.rowcount)
        await cur.close()
        return written


class PostgresWriter:
    """Upserts through asyncpg: binary COPY into a staging table, then one INSERT."""

    dialect = "postgresql"

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._staged: set[str] = set()
        self._sql: dict[str, str] = {}

    async def begin(self) -> None:
        return None

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

    async def upsert(self, spec: UpsertSpec, rows: Sequence[tuple[Any, ...]]) -> int:
        if not rows:
            return 0
        await self._ensure_stage(spec)
        rows = dedupe(spec, list(rows))
        stage = self._stage(spec)
        await self.raw.copy_records_to_table(stage, records=rows, columns=list(spec.columns))
        written = await self.raw.fetchval(self.sql(spec))
        await self.raw.execute(f"TRUNCATE {stage}")
        return int(written or 0)


Writer = SqliteWriter | PostgresWriter
