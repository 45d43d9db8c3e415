"""The store loader: the one way canonical records get into the ingest tables.

Connectors (API syncs), importers (native exports), the metrics push and the demo data
all end here::

    counts = await loader.load(db, client_id, records, source)

* ``db`` is the caller's :class:`AsyncSession` (a request or a job) or
  :class:`AsyncConnection` (the CLI, a benchmark). The caller owns the transaction: the
  loader never commits. It works inside a SAVEPOINT, so a load that fails half-way
  leaves nothing of itself behind even if the caller then commits other work.
* ``records`` is any iterable or async iterable mixing :class:`DailyMetricRecord`,
  :class:`DailyMetricRow` (the same fact as a plain tuple, for bulk producers, or
  :class:`DailyMetricRows`, thousands of them at once),
  :class:`PostRecord`, :class:`ChannelTotalRecord` and :class:`WebMetricRecord`. It is
  consumed once, in batches of ``batch_size``: memory stays bounded whatever its size.
* ``source`` is where the numbers come from (an API + version, or a file). Given, it is
  recorded once (``ingest_source``, reused when the same source is loaded again) and
  every row points at it with its file row; ``None`` uses each record's own source.

Semantics (DESIGN.md's data rules):

* Daily metrics are one row per (account, metric, day), web metrics one per (property,
  day, dimension, value, metric); post metrics are dated snapshots, one per (post,
  snapshot date, metric), and ``ingest_post_metric_latest`` follows the newest snapshot.
  Loading the same data again writes nothing; a different value for the same key
  corrects the row and re-points it at the new source.
* Posts are keyed by (account, external id); attributes absent from a record (``None``)
  never erase what is known.
* A :class:`ChannelTotalRecord` (a file's "Total" row) is kept per (account, period,
  metric), never added to the posts.
* :class:`AccountRef` s resolve to accounts in the client's scope (``client_id=None``:
  the agency-wide relay directory); an unknown one is created for that owner.
* Missing is not zero: a record never carries a value for "no data" (producers leave the
  metric out); NaN, infinities and unknown metric names are refused with
  :class:`LoadError`.

Fast paths (see ``bulk.py``): the raw driver under the caller's connection — sqlite3
``executemany`` on SQLite, binary ``COPY`` into a staging table then ``INSERT … ON
CONFLICT`` on PostgreSQL. Posts (far fewer rows) go through SQLAlchemy Core.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.store import bulk
from services.ingest.store.models import (
    Account,
    ChannelTotal,
    ClientRevision,
    Post,
    SourceRecord,
)
from shared.clock import utcnow
from shared.metrics_catalogue import CATALOGUE
from shared.schemas.ingest import (
    AccountRef,
    ChannelTotalRecord,
    DailyMetricRecord,
    OwnerKind,
    PostRecord,
    Source,
    WebMetricRecord,
)

DEFAULT_BATCH = 20_000
# How often, at most, ``on_batch`` is awaited (seconds).
PROGRESS_EVERY_S = 0.25
AGENCY_SCOPE = "agency"


class DailyMetricRow(NamedTuple):
    """A :class:`DailyMetricRecord` as a plain tuple, for producers of millions of rows.

    Building a validated pydantic model costs ~1–2 µs a row, as much as storing it; bulk
    importers yield these instead (share one :class:`AccountRef` object per account) and
    pass the file's :class:`Source` to :func:`load`. ``row`` is the 1-based file row.
    """

    account: AccountRef
    metric: str
    day: dt.date
    value: float
    row: int | None = None


#: a daily value in the bulk tuple form: (metric, day, value, 1-based file row)
Row = tuple[str, dt.date, float, int | None]


class DailyMetricRows:
    """Many daily values of one account at once, as plain ``(metric, day, value, row)``
    tuples: a bulk importer yields a few thousand rows per object, so that the layers
    between the file and the database cost per batch, not per row (and the tuples,
    holding no object the garbage collector tracks, are untracked early)."""

    __slots__ = ("account", "rows")

    def __init__(self, account: AccountRef, rows: list[Row]) -> None:
        self.account = account
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)


Record = (
    DailyMetricRecord
    | DailyMetricRow
    | DailyMetricRows
    | PostRecord
    | ChannelTotalRecord
    | WebMetricRecord
)


class LoadError(ValueError):
    """A record the store cannot take (unknown metric, non-finite value, bad account)."""

    def __init__(self, reason: str, row: int | None = None) -> None:
        super().__init__(f"row {row}: {reason}" if row is not None else reason)
        self.reason = reason
        self.row = row


@dataclass
class LoadCounts:
    """What one load did. ``*_written`` counts rows inserted or corrected; the rest of
    what was received was already stored with the same value."""

    source_id: int | None = None
    accounts: int = 0
    accounts_created: int = 0
    daily_rows: int = 0
    daily_written: int = 0
    posts: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    post_metrics: int = 0
    post_metrics_written: int = 0
    web_rows: int = 0
    web_written: int = 0
    channel_totals: int = 0
    channel_totals_written: int = 0
    account_ids: set[int] = field(default_factory=set, repr=False)
    #: (network, platform id) -> account id, for every account the load named
    account_keys: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    @property
    def written(self) -> int:
        return (
            self.daily_written
            + self.posts_created
            + self.posts_updated
            + self.post_metrics_written
            + self.web_written
            + self.channel_totals_written
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("account_ids")
        out.pop("account_keys")
        return out


OnBatch = Callable[[LoadCounts], Awaitable[None]]


@dataclass
class LoadMemo:
    """Account and source ids a caller keeps from one load to the next of the same
    client (the push writer, thousands of small loads a minute): a load finds them here
    instead of asking the database. Ingest never deletes nor re-keys an account or a
    source, and a row that went anyway (by hand) fails its foreign key: the caller then
    drops the memo and loads again."""

    #: (network, platform id) -> account id
    accounts: dict[tuple[str, str], int] = field(default_factory=dict)
    #: (kind, provider, version, file, sha256) -> source id
    sources: dict[tuple[Any, ...], int] = field(default_factory=dict)


_POST_FIELDS = (
    "published_at",
    "content_type",
    "format",
    "text",
    "title",
    "permalink",
    "duration_seconds",
)


async def load(
    db: AsyncSession | AsyncConnection,
    client_id: int | None,
    records: Iterable[Record] | AsyncIterable[Record],
    source: Source | None = None,
    *,
    file_sha256: str | None = None,
    owner_kind: OwnerKind | None = None,
    batch_size: int = DEFAULT_BATCH,
    on_batch: OnBatch | None = None,
    savepoint: bool = True,
    memo: LoadMemo | None = None,
) -> LoadCounts:
    """Load ``records`` for ``client_id`` (see the module docstring); return the counts.

    Raises :class:`LoadError` for a record the store refuses and lets database errors
    through; in both cases nothing of this load is kept (its savepoint is rolled back).
    ``owner_kind`` is the owner of accounts created on the way (default: the client's
    own, or a relay for the agency scope). ``on_batch`` is awaited after a batch is
    written, at most every ``PROGRESS_EVERY_S``, with the running counts (for job
    progress); no statement of the load is in flight while it runs. ``savepoint=False``
    is for a caller whose whole transaction is rolled back when the load fails (a batch
    of pushes): it saves the savepoint's two round trips. ``memo`` keeps the ids of the
    accounts and sources this load resolves, and serves the ones an earlier load of the
    same client resolved (:class:`LoadMemo`).
    """
    conn = await db.connection() if isinstance(db, AsyncSession) else db
    if isinstance(db, AsyncSession):
        await db.flush()
    raw = (await conn.get_raw_connection()).driver_connection
    writer: bulk.Writer
    if conn.dialect.name == "sqlite":
        writer = bulk.SqliteWriter(raw)
    elif conn.dialect.name == "postgresql":
        writer = bulk.PostgresWriter(raw)
    else:  # pragma: no cover - Balise runs on these two
        raise RuntimeError(f"no bulk path for {conn.dialect.name}")
    await writer.begin()
    if not savepoint and isinstance(writer, bulk.PostgresWriter) and not writer.in_transaction():
        # SQLAlchemy opens the caller's transaction with its first statement, and with
        # every id in a memo the driver below may be the first to write: open it now, or
        # each batch would commit on its own.
        await conn.execute(text("SELECT 1"))
    nested: contextlib.AbstractAsyncContextManager[Any] = (
        db.begin_nested() if savepoint else contextlib.nullcontext()
    )
    async with nested:
        if isinstance(db, AsyncSession):
            # A session emits its SAVEPOINT when it next needs the connection: now, before
            # the driver is used directly.
            conn = await db.connection()
        loader = _Loader(conn, writer, client_id, owner_kind, batch_size, on_batch, memo)
        if source is not None:
            loader.fixed_source = await loader.source_id(source, file_sha256)
            loader.counts.source_id = loader.fixed_source
        try:
            if isinstance(records, AsyncIterable):
                async for rec in records:
                    await loader.add(rec)
            else:
                await loader.add_all(records)
            await loader.flush_all()
            if client_id is not None:
                await bump_revision(conn, client_id)
        except BaseException:
            # A batch may still be in flight on the server: wait for it, so that the
            # connection is free for the savepoint's rollback.
            await writer.abort()
            raise
    return loader.counts


_BUMP_SQL = (
    "INSERT INTO ingest_client_revision (client_id, revision, changed_at) "
    "VALUES ({client_id}, 1, {now}) "
    "ON CONFLICT (client_id) DO UPDATE SET "
    "revision = ingest_client_revision.revision + 1, changed_at = excluded.changed_at"
)
_BUMP = text(_BUMP_SQL.format(client_id=":client_id", now=":now")).bindparams(
    bindparam("now", type_=ClientRevision.__table__.c.changed_at.type)  # type: ignore[attr-defined]
)
_BUMP_DRIVER = _BUMP_SQL.format(client_id="$1", now="$2")


class NotInMemo(Exception):
    """A driver-only load named an account or a source its memo does not hold."""


async def load_on_driver(
    raw: Any,
    client_id: int,
    records: Iterable[DailyMetricRows],
    source: Source,
    memo: LoadMemo,
) -> LoadCounts:
    """:func:`load` of daily rows on a bare asyncpg connection, for a caller that holds
    it in a transaction of its own and every account and source id in ``memo`` (the push
    writer's warm batches): the same checks, upsert and revision raise, without
    SQLAlchemy's work per statement. Raises :class:`NotInMemo` where :func:`load` would
    look an id up; the caller rolls its transaction back and loads through :func:`load`.
    """
    if not raw.is_in_transaction():
        raise RuntimeError("load_on_driver needs the caller's transaction")
    writer = bulk.PostgresWriter(raw)
    loader = _Loader(None, writer, client_id, None, DEFAULT_BATCH, None, memo)
    loader.fixed_source = await loader.source_id(source, None)
    loader.counts.source_id = loader.fixed_source
    try:
        for rec in records:
            if type(rec) is not DailyMetricRows:
                raise TypeError("load_on_driver takes DailyMetricRows only")
            await loader.add_rows(rec.account, rec.rows)
        await loader.flush_all()
        await raw.execute(_BUMP_DRIVER, client_id, utcnow())
    except BaseException:
        await writer.abort()
        raise
    return loader.counts


async def bump_revision(conn: AsyncConnection, client_id: int) -> None:
    """Raise the client's revision in the load's own transaction (see ClientRevision)."""
    await conn.execute(_BUMP, {"client_id": client_id, "now": utcnow()})


async def client_revision(db: AsyncSession, client_id: int) -> int:
    """The client's revision; 0 before its first load."""
    row = await db.get(ClientRevision, client_id)
    return int(row.revision) if row is not None else 0


# The lookups a load makes for each account and source, built once: a statement built
# anew is compiled from its cache key, which costs more than the lookup itself when a
# load is small (a metrics push).
_ACCOUNT_T = Account.__table__  # type: ignore[attr-defined]
_FIND_ACCOUNT = select(_ACCOUNT_T.c.id).where(
    _ACCOUNT_T.c.scope_key == bindparam("scope_key"),
    _ACCOUNT_T.c.network == bindparam("network"),
    _ACCOUNT_T.c.external_id == bindparam("ext"),
)
_SOURCE_T = SourceRecord.__table__  # type: ignore[attr-defined]
_SOURCE_NULLABLE = ("client_id", "version", "file_name", "file_sha256")
_SOURCE_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def _dialect_insert(conn: AsyncConnection) -> Any:
    """The insert construct with ``on_conflict_do_nothing`` for the connection's database."""
    if conn.dialect.name == "postgresql":
        return pg_insert
    return sqlite_insert


@functools.cache
def _find_source(nulls: tuple[bool, ...]) -> Any:
    """The source lookup for one pattern of absent values (``IS NULL`` where a value is
    absent, equality where present, so the indexes serve it): at most 16 statements."""
    t = _SOURCE_T
    absent = dict(zip(_SOURCE_NULLABLE, nulls, strict=True))
    where = [t.c.kind == bindparam("kind"), t.c.provider == bindparam("provider")]
    for name in _SOURCE_NULLABLE:
        col = t.c[name]
        where.append(col.is_(None) if absent[name] else col == bindparam(name))
    return select(t.c.id).where(*where).order_by(t.c.id).limit(1)


class _Loader:
    def __init__(
        self,
        conn: AsyncConnection | None,
        writer: bulk.Writer,
        client_id: int | None,
        owner_kind: OwnerKind | None,
        batch_size: int,
        on_batch: OnBatch | None,
        memo: LoadMemo | None = None,
    ) -> None:
        self._conn = conn
        self.memo = memo
        self.writer = writer
        self.client_id = client_id
        self.scope_key = str(client_id) if client_id is not None else AGENCY_SCOPE
        self.owner_kind = owner_kind or (
            OwnerKind.client if client_id is not None else OwnerKind.relay
        )
        self.batch = max(1, batch_size)
        self.on_batch = on_batch
        self._last_progress = -math.inf
        self.counts = LoadCounts()
        self.fixed_source: int | None = None
        # id(AccountRef) -> (the ref, kept alive so its id is not reused; account id)
        self._acc_by_obj: dict[int, tuple[AccountRef, int]] = {}
        self._acc_by_key: dict[tuple[str, str], int] = {}
        self._sources: dict[tuple[Any, ...], int] = {}
        self._daily: list[tuple[Any, ...]] = []
        self._web: list[tuple[Any, ...]] = []
        self._web_period: list[tuple[Any, ...]] = []
        self._posts: list[tuple[int, PostRecord, int | None]] = []
        self._totals: list[tuple[int, ChannelTotalRecord, int | None]] = []

    @property
    def db(self) -> AsyncConnection:
        """The SQLAlchemy connection; a driver-only load has none (:func:`load_on_driver`)."""
        if self._conn is None:
            raise NotInMemo
        return self._conn

    # ------------------------------------------------------------------ intake

    async def add_all(self, records: Iterable[Record]) -> None:
        for rec in records:
            kind = type(rec)
            if kind is DailyMetricRows:
                await self.add_rows(rec.account, rec.rows)  # type: ignore[union-attr]
            else:
                await self.add(rec)

    async def add_rows(self, account: AccountRef, rows: Iterable[Row]) -> None:
        """The bulk tuple form, in a tight loop: this is the import benchmark's path."""
        sid = self.fixed_source
        if sid is None:
            raise LoadError("daily rows need the load's source (pass `source`)")
        hit = self._acc_by_obj.get(id(account))
        aid = hit[1] if hit is not None else await self.account_id(account)
        daily = self._daily
        batch = self.batch
        known = CATALOGUE
        isfinite = math.isfinite
        for metric, day, value, row in rows:
            if metric not in known:
                raise LoadError(f"{metric!r} is not a canonical metric", row)
            if type(value) is not float:
                value = float(value)
            if not isfinite(value):
                raise LoadError(f"{metric} is not a finite number ({value})", row)
            daily.append((aid, metric, day, value, sid, row))
            if len(daily) >= batch:
                await self.flush_daily()
                daily = self._daily

    async def add(self, rec: Record) -> None:
        if isinstance(rec, DailyMetricRows):
            await self.add_rows(rec.account, rec.rows)
        elif isinstance(rec, DailyMetricRow):
            await self.add_rows(rec.account, ((rec.metric, rec.day, rec.value, rec.row),))
        elif isinstance(rec, DailyMetricRecord):
            aid = await self.account_id(rec.account)
            row = rec.source.row
            self._check(rec.metric, rec.value, row)
            sid = await self.record_source(rec.source)
            self._daily.append((aid, rec.metric, rec.day, float(rec.value), sid, row))
            if len(self._daily) >= self.batch:
                await self.flush_daily()
        elif isinstance(rec, WebMetricRecord):
            aid = await self.account_id(rec.account)
            row = rec.source.row
            self._check(rec.metric, rec.value, row)
            sid = await self.record_source(rec.source)
            if rec.period_end is None or rec.period_end == rec.day:
                self._web.append(
                    (
                        aid,
                        rec.day,
                        rec.dimension,
                        rec.dimension_value,
                        rec.metric,
                        float(rec.value),
                        sid,
                        row,
                    )
                )
            else:
                if rec.period_end < rec.day:
                    raise LoadError("the period ends before it starts", row)
                self._web_period.append(
                    (
                        aid,
                        rec.day,
                        rec.period_end,
                        rec.dimension,
                        rec.dimension_value,
                        rec.metric,
                        float(rec.value),
                        sid,
                        row,
                    )
                )
            if len(self._web) + len(self._web_period) >= self.batch:
                await self.flush_web()
        elif isinstance(rec, PostRecord):
            aid = await self.account_id(rec.account)
            for metric, value in rec.metrics.items():
                self._check(metric, value, rec.source.row)
            if not rec.external_id:
                raise LoadError("a post needs its platform id", rec.source.row)
            if rec.published_at is not None and rec.published_at.utcoffset() is None:
                raise LoadError("a post's publication time must carry its offset", rec.source.row)
            sid = await self.record_source(rec.source)
            self._posts.append((aid, rec, sid))
            # A post carries ~10 metrics: keep post batches smaller than fact batches.
            if len(self._posts) >= max(1, self.batch // 10):
                await self.flush_posts()
        elif isinstance(rec, ChannelTotalRecord):
            aid = await self.account_id(rec.account)
            for metric, value in rec.metrics.items():
                self._check(metric, value, rec.source.row)
            sid = await self.record_source(rec.source)
            self._totals.append((aid, rec, sid))
        else:
            raise LoadError(f"not a canonical record: {type(rec).__name__}")

    @staticmethod
    def _check(metric: str, value: float, row: int | None) -> None:
        if metric not in CATALOGUE:
            raise LoadError(f"{metric!r} is not a canonical metric", row)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise LoadError(f"{metric} is not a finite number ({value!r})", row)

    # ------------------------------------------------------------------ accounts & sources

    async def account_id(self, ref: AccountRef) -> int:
        key = (str(ref.network), ref.external_id)
        aid = self._acc_by_key.get(key)
        if aid is None:
            memo = self.memo
            aid = memo.accounts.get(key) if memo is not None else None
            if aid is None:
                aid = await self._resolve_account(ref)
                if memo is not None:
                    memo.accounts[key] = aid
            self._acc_by_key[key] = aid
            self.counts.account_keys[key] = aid
            if aid not in self.counts.account_ids:
                self.counts.account_ids.add(aid)
                self.counts.accounts = len(self.counts.account_ids)
        self._acc_by_obj[id(ref)] = (ref, aid)
        return aid

    async def _resolve_account(self, ref: AccountRef) -> int:
        if not ref.external_id:
            raise LoadError(f"a {ref.network} account needs its platform id")
        await self.writer.settle()
        t = _ACCOUNT_T
        key = {"scope_key": self.scope_key, "network": str(ref.network), "ext": ref.external_id}
        found = await self.db.scalar(_FIND_ACCOUNT, key)
        if found is not None:
            return int(found)
        now = utcnow()
        values = {
            "client_id": self.client_id,
            "scope_key": self.scope_key,
            "owner_kind": str(self.owner_kind),
            "network": str(ref.network),
            "external_id": ref.external_id,
            "handle": ref.handle,
            "name": ref.name,
            "timezone": "America/Toronto",
            "collection_started_at": now,
            "created_at": now,
            "archived": False,
        }
        # Another transaction may be creating the same account (two loads at once): the
        # insert then waits for it and does nothing, and the lookup finds its row.
        new_id = await self.db.scalar(
            _dialect_insert(self.db)(t)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["scope_key", "network", "external_id"])
            .returning(t.c.id)
        )
        if new_id is None:
            found = await self.db.scalar(_FIND_ACCOUNT, key)
            if found is None:  # created and removed again meanwhile
                raise LoadError(f"the {ref.network} account {ref.external_id} changed; retry")
            return int(found)
        self.counts.accounts_created += 1
        return int(new_id)

    async def record_source(self, src: Source) -> int:
        if self.fixed_source is not None:
            return self.fixed_source
        return await self.source_id(src, None)

    async def source_id(self, src: Source, sha256: str | None) -> int:
        """The ``ingest_source`` row for ``src``: one per (client, kind, provider, version,
        file, sha256), so loading the same source again adds nothing."""
        key = (src.kind, src.provider, src.version, src.file, sha256)
        cached = self._sources.get(key)
        if cached is None and self.memo is not None:
            cached = self.memo.sources.get(key)
            if cached is not None:
                self._sources[key] = cached
        if cached is not None:
            return cached
        await self.writer.settle()
        t = SourceRecord.__table__  # type: ignore[attr-defined]
        nulls = tuple(v is None for v in (self.client_id, src.version, src.file, sha256))
        params = {
            "client_id": self.client_id,
            "kind": src.kind,
            "provider": src.provider,
            "version": src.version,
            "file_name": src.file,
            "file_sha256": sha256,
        }
        found = await self.db.scalar(_find_source(nulls), params)
        if found is None and self.db.dialect.name == "postgresql":
            # Sources have no unique key (their nullable columns): two loads creating the
            # same one take turns on a lock of its key, and the second finds the first's.
            await self.db.execute(_SOURCE_LOCK, {"key": repr((self.client_id, *key))})
            found = await self.db.scalar(_find_source(nulls), params)
        if found is None:
            found = await self.db.scalar(
                insert(t)
                .values(
                    client_id=self.client_id,
                    kind=src.kind,
                    provider=src.provider,
                    version=src.version,
                    file_name=src.file,
                    file_sha256=sha256,
                    created_at=utcnow(),
                )
                .returning(t.c.id)
            )
        self._sources[key] = int(found)
        if self.memo is not None:
            self.memo.sources[key] = int(found)
        return int(found)

    # ------------------------------------------------------------------ flushing

    async def flush_all(self) -> None:
        await self.flush_daily()
        await self.flush_web()
        await self.flush_posts()
        await self.flush_totals()
        await self.writer.settle()

    # Sinks of the written counts, called when a batch's count is known.
    def _daily_written(self, n: int) -> None:
        self.counts.daily_written += n

    def _web_written(self, n: int) -> None:
        self.counts.web_written += n

    def _post_metrics_written(self, n: int) -> None:
        self.counts.post_metrics_written += n

    async def _progress(self) -> None:
        # At most a few calls a second. The callback may use the database (a job's
        # progress row), so the batch in flight settles first: a connection serves one
        # statement at a time. Settling only this often keeps the write pipelined.
        if self.on_batch is None:
            return
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        await self.writer.settle()
        await self.on_batch(self.counts)

    async def flush_daily(self) -> None:
        rows, self._daily = self._daily, []
        if not rows:
            return
        self.counts.daily_rows += len(rows)
        await self.writer.upsert(bulk.DAILY, rows, self._daily_written)
        await self._progress()

    async def flush_web(self) -> None:
        rows, self._web = self._web, []
        period, self._web_period = self._web_period, []
        if not rows and not period:
            return
        self.counts.web_rows += len(rows) + len(period)
        await self.writer.upsert(bulk.WEB_DAILY, rows, self._web_written)
        await self.writer.upsert(bulk.WEB_PERIOD, period, self._web_written)
        await self._progress()

    async def flush_posts(self) -> None:
        items, self._posts = self._posts, []
        if not items:
            return
        # The same post twice in one batch: the later record wins.
        latest: dict[tuple[int, str], tuple[int, PostRecord, int | None]] = {}
        for item in items:
            latest[(item[0], item[1].external_id)] = item
        post_ids = await self._upsert_posts(list(latest.values()))
        snapshots: list[tuple[Any, ...]] = []
        heads: list[tuple[Any, ...]] = []
        for aid, rec, sid in items:
            pid = post_ids[(aid, rec.external_id)]
            for metric, value in rec.metrics.items():
                v = float(value)
                snapshots.append((pid, rec.snapshot_date, metric, v, sid, rec.source.row))
                heads.append((pid, metric, rec.snapshot_date, v))
        self.counts.post_metrics += len(snapshots)
        await self.writer.upsert(bulk.POST_METRIC, snapshots, self._post_metrics_written)
        await self.writer.upsert(bulk.POST_METRIC_LATEST, heads, _ignore)
        await self._progress()

    async def _upsert_posts(
        self, items: list[tuple[int, PostRecord, int | None]]
    ) -> dict[tuple[int, str], int]:
        await self.writer.settle()
        t = Post.__table__  # type: ignore[attr-defined]
        self.counts.posts += len(items)
        by_account: dict[int, list[str]] = {}
        for aid, rec, _ in items:
            by_account.setdefault(aid, []).append(rec.external_id)
        existing: dict[tuple[int, str], Any] = {}
        for aid, ext_ids in by_account.items():
            for i in range(0, len(ext_ids), 500):
                chunk = ext_ids[i : i + 500]
                res = await self.db.execute(
                    select(t.c.id, t.c.external_id, *(t.c[f] for f in _POST_FIELDS)).where(
                        t.c.account_id == aid, t.c.external_id.in_(chunk)
                    )
                )
                for r in res:
                    existing[(aid, r.external_id)] = r
        ids: dict[tuple[int, str], int] = {}
        new_rows: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for aid, rec, sid in items:
            key = (aid, rec.external_id)
            old = existing.get(key)
            incoming = {f: getattr(rec, f) for f in _POST_FIELDS}
            if old is None:
                new_rows.append(
                    {
                        "account_id": aid,
                        "external_id": rec.external_id,
                        **incoming,
                        "source_id": sid,
                        "source_row": rec.source.row,
                    }
                )
                continue
            ids[key] = int(old.id)
            diff = {
                f: v for f, v in incoming.items() if v is not None and not _same(getattr(old, f), v)
            }
            if diff:
                changes.append({"b_id": old.id, **diff})
        if new_rows:
            res = await self.db.execute(
                insert(t).returning(t.c.id, t.c.account_id, t.c.external_id),
                new_rows,
            )
            for r in res:
                ids[(int(r.account_id), r.external_id)] = int(r.id)
            self.counts.posts_created += len(new_rows)
        for change in changes:
            pid = change.pop("b_id")
            await self.db.execute(update(t).where(t.c.id == pid).values(**change))
        self.counts.posts_updated += len(changes)
        return ids

    async def flush_totals(self) -> None:
        items, self._totals = self._totals, []
        if not items:
            return
        await self.writer.settle()
        t = ChannelTotal.__table__  # type: ignore[attr-defined]

        def same(col: Any, value: Any) -> Any:
            return col.is_(None) if value is None else col == value

        for aid, rec, sid in items:
            for metric, value in rec.metrics.items():
                self.counts.channel_totals += 1
                v = float(value)
                where = and_(
                    t.c.account_id == aid,
                    same(t.c.period_start, rec.period_start),
                    same(t.c.period_end, rec.period_end),
                    t.c.metric == metric,
                )
                found = (await self.db.execute(select(t.c.id, t.c.value).where(where))).first()
                if found is None:
                    await self.db.execute(
                        insert(t).values(
                            account_id=aid,
                            period_start=rec.period_start,
                            period_end=rec.period_end,
                            metric=metric,
                            value=v,
                            source_id=sid,
                            source_row=rec.source.row,
                        )
                    )
                elif found.value != v:
                    await self.db.execute(
                        update(t)
                        .where(t.c.id == found.id)
                        .values(value=v, source_id=sid, source_row=rec.source.row)
                    )
                else:
                    continue
                self.counts.channel_totals_written += 1
        await self._progress()


def _ignore(n: int) -> None:
    return None


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, dt.datetime) and isinstance(new, dt.datetime):
        # SQLite hands datetimes back naive (stored as UTC); compare as UTC.
        if old.tzinfo is None:
            old = old.replace(tzinfo=dt.UTC)
        if new.tzinfo is None:
            new = new.replace(tzinfo=dt.UTC)
        return old == new
    return bool(old == new)
