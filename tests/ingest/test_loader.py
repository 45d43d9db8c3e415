"""The store loader on the real database (SQLite and PostgreSQL).

Counts, idempotence, correction, snapshots and their "latest", tenancy of accounts, and
no partial load when a load fails half-way.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, text
from sqlmodel import col, select

from services.ingest.store import bulk, loader
from services.ingest.store.loader import DailyMetricRow, LoadError
from services.ingest.store.models import (
    Account,
    ChannelTotal,
    DailyMetric,
    Post,
    PostMetric,
    PostMetricLatest,
    SourceRecord,
    WebMetric,
    WebPeriodMetric,
)
from shared.schemas.ingest import Network, Source
from tests.conftest import DB_KIND, new_client_id
from tests.ingest.records import daily, post, ref, total, web

D0 = dt.date(2026, 1, 1)
FILE = Source(kind="file", provider="balise_daily_csv", file="daily.csv")


async def _accounts(db, client_id: int) -> list[Account]:
    return list((await db.exec(select(Account).where(Account.client_id == client_id))).all())


async def _daily(db, client_id: int) -> dict[tuple[str, str, dt.date], float]:
    rows = await db.exec(
        select(Account.external_id, DailyMetric.metric, DailyMetric.day, DailyMetric.value)
        .join(Account, col(Account.id) == DailyMetric.account_id)
        .where(Account.client_id == client_id)
    )
    return {(a, m, d): v for a, m, d, v in rows}


async def test_first_load_counts_and_rows(db):
    cid = new_client_id()
    records = [
        daily("followers", D0, 100),
        daily("followers", D0 + dt.timedelta(days=1), 102),
        daily("views", D0, 5000, account=ref("page-2")),
        post("p1", reactions=10, comments=2),
        post("p2", reactions=4),
        web("sessions", 50),
        web("sessions", 700, day=D0, period_end=D0 + dt.timedelta(days=30)),
        total(views=1234.0, watch_time_seconds=3600.0),
    ]
    counts = await loader.load(db, cid, records)
    assert counts.daily_rows == 3 and counts.daily_written == 3
    assert counts.posts == 2 and counts.posts_created == 2 and counts.posts_updated == 0
    assert counts.post_metrics == 3 and counts.post_metrics_written == 3
    assert counts.web_rows == 2 and counts.web_written == 2
    assert counts.channel_totals == 2 and counts.channel_totals_written == 2
    assert counts.accounts == 4 and counts.accounts_created == 4

    assert await _daily(db, cid) == {
        ("page-1", "followers", D0): 100.0,
        ("page-1", "followers", D0 + dt.timedelta(days=1)): 102.0,
        ("page-2", "views", D0): 5000.0,
    }
    accounts = {a.external_id: a for a in await _accounts(db, cid)}
    assert accounts["page-1"].scope_key == str(cid) and accounts["page-1"].owner_kind == "client"
    assert accounts["page-1"].name == "Account page-1"
    posts = (await db.exec(select(Post).where(Post.account_id == accounts["page-1"].id))).all()
    assert {p.external_id for p in posts} == {"p1", "p2"}
    p1 = next(p for p in posts if p.external_id == "p1")
    assert p1.text == "Bonjour 🌲\nsecond line"
    assert p1.published_at == dt.datetime(2026, 5, 1, 14, 30, tzinfo=dt.UTC)
    latest = (
        await db.exec(select(PostMetricLatest).where(PostMetricLatest.post_id == p1.id))
    ).all()
    assert {(m.metric, m.value) for m in latest} == {("reactions", 10.0), ("comments", 2.0)}
    ga = accounts["G-1"]
    daily_web = (await db.exec(select(WebMetric).where(WebMetric.account_id == ga.id))).all()
    assert [(w.day, w.dimension_value, w.metric, w.value) for w in daily_web] == [
        (dt.date(2026, 5, 1), "Organic Social", "sessions", 50.0)
    ]
    period = (
        await db.exec(select(WebPeriodMetric).where(WebPeriodMetric.account_id == ga.id))
    ).all()
    assert [(p.period_start, p.period_end, p.value) for p in period] == [
        (D0, D0 + dt.timedelta(days=30), 700.0)
    ]
    totals = (
        await db.exec(select(ChannelTotal).where(ChannelTotal.account_id == accounts["chan-1"].id))
    ).all()
    assert {(t.metric, t.value) for t in totals} == {
        ("views", 1234.0),
        ("watch_time_seconds", 3600.0),
    }


async def test_reloading_the_same_data_changes_nothing(db):
    cid = new_client_id()
    records = [
        daily("followers", D0, 100, row=1),
        post("p1", reactions=10),
        web("sessions", 50),
        total(views=10.0),
    ]
    first = await loader.load(db, cid, records, FILE, file_sha256="a" * 64)
    sources = (await db.exec(select(func.count()).select_from(SourceRecord))).one()
    again = await loader.load(db, cid, records, FILE, file_sha256="a" * 64)
    assert first.written == 5
    assert again.written == 0
    assert again.daily_rows == 1 and again.posts == 1 and again.accounts == 3
    assert again.accounts_created == 0
    assert again.source_id == first.source_id
    assert (await db.exec(select(func.count()).select_from(SourceRecord))).one() == sources
    assert len(await _daily(db, cid)) == 1
    accounts = await _accounts(db, cid)
    assert len(accounts) == 3
    ids = [a.id for a in accounts]
    n_posts = (
        await db.exec(select(func.count()).select_from(Post).where(col(Post.account_id).in_(ids)))
    ).one()
    assert n_posts == 1
    n_totals = (
        await db.exec(
            select(func.count())
            .select_from(ChannelTotal)
            .where(col(ChannelTotal.account_id).in_(ids))
        )
    ).one()
    assert n_totals == 1  # a NULL period is still the same period


async def test_a_newer_value_corrects_the_row_and_its_source(db):
    cid = new_client_id()
    await loader.load(db, cid, [daily("followers", D0, 100)])
    fixed = Source(kind="file", provider="balise_daily_csv", file="fixed.csv")
    counts = await loader.load(db, cid, [daily("followers", D0, 101, row=7)], fixed)
    assert counts.daily_written == 1
    assert await _daily(db, cid) == {("page-1", "followers", D0): 101.0}
    row = (
        await db.exec(
            select(DailyMetric)
            .join(Account, col(Account.id) == DailyMetric.account_id)
            .where(Account.client_id == cid)
        )
    ).one()
    assert row.source_id == counts.source_id and row.source_row == 7
    src = await db.get(SourceRecord, counts.source_id)
    assert src is not None and src.file_name == "fixed.csv" and src.kind == "file"


async def test_post_snapshots_and_latest(db):
    cid = new_client_id()
    may10, may20 = dt.date(2026, 5, 10), dt.date(2026, 5, 20)
    await loader.load(db, cid, [post("p1", snapshot=may10, reactions=10)])
    c = await loader.load(db, cid, [post("p1", snapshot=may20, reactions=25)])
    assert c.posts_created == 0 and c.post_metrics_written == 1
    # An older snapshot arriving late (or corrected) does not move "latest".
    c = await loader.load(db, cid, [post("p1", snapshot=may10, reactions=11)])
    assert c.post_metrics_written == 1
    pid = (
        await db.exec(
            select(Post.id)
            .join(Account, col(Account.id) == Post.account_id)
            .where(Account.client_id == cid)
        )
    ).one()
    snaps = (
        await db.exec(
            select(PostMetric.snapshot_date, PostMetric.value)
            .where(PostMetric.post_id == pid)
            .order_by(col(PostMetric.snapshot_date))
        )
    ).all()
    assert [tuple(s) for s in snaps] == [(may10, 11.0), (may20, 25.0)]
    head = (await db.exec(select(PostMetricLatest).where(PostMetricLatest.post_id == pid))).one()
    assert (head.snapshot_date, head.value) == (may20, 25.0)
    # A correction of the latest snapshot moves it.
    await loader.load(db, cid, [post("p1", snapshot=may20, reactions=26)])
    await db.refresh(head)
    assert (head.snapshot_date, head.value) == (may20, 26.0)


async def test_post_attributes_update_but_none_never_erases(db):
    cid = new_client_id()
    await loader.load(db, cid, [post("p1")])
    later = post("p1").model_copy(update={"text": None, "permalink": "https://fb.com/p1"})
    c = await loader.load(db, cid, [later])
    assert c.posts_updated == 1
    p = (
        await db.exec(
            select(Post)
            .join(Account, col(Account.id) == Post.account_id)
            .where(Account.client_id == cid)
        )
    ).one()
    assert p.text == "Bonjour 🌲\nsecond line" and p.permalink == "https://fb.com/p1"


async def test_accounts_are_scoped_by_client(db):
    a, b = new_client_id(), new_client_id()
    await loader.load(db, a, [daily("followers", D0, 1)])
    await loader.load(db, b, [daily("followers", D0, 2)])
    assert await _daily(db, a) == {("page-1", "followers", D0): 1.0}
    assert await _daily(db, b) == {("page-1", "followers", D0): 2.0}
    assert len(await _accounts(db, a)) == 1 and len(await _accounts(db, b)) == 1


@pytest.mark.parametrize("staging", [False, True], ids=["unnest", "staging-table"])
async def test_bulk_rows_batches_and_async_input(db, monkeypatch, staging):
    """Both PostgreSQL paths: the arrays of a small batch and the staging table of a
    large one (forced here for batches of 100)."""
    monkeypatch.setattr(loader, "PROGRESS_EVERY_S", 0.0)  # a call after every batch
    if staging:
        monkeypatch.setattr(bulk, "SMALL_BATCH", 0)
    cid = new_client_id()
    acc = ref("bulk", Network.x)
    rows = [
        DailyMetricRow(acc, "views", D0 + dt.timedelta(days=i), float(i), i + 1) for i in range(250)
    ]
    seen: list[int] = []

    async def on_batch(counts: loader.LoadCounts) -> None:
        seen.append(counts.daily_rows)

    c = await loader.load(db, cid, rows, FILE, batch_size=100, on_batch=on_batch)
    assert c.daily_rows == 250 and c.daily_written == 250
    assert seen == [100, 200, 250]  # batches of 100, then the rest: bounded buffers

    async def agen() -> AsyncIterator[DailyMetricRow]:
        for r in rows:
            yield r._replace(value=r.value + 1 if r.row == 1 else r.value)

    c = await loader.load(db, cid, agen(), FILE, batch_size=100)
    assert c.daily_written == 1
    stored = await _daily(db, cid)
    assert stored[("bulk", "views", D0)] == 1.0 and len(stored) == 250


@pytest.mark.skipif(DB_KIND != "postgres", reason="SQLite does not enforce a text's length")
@pytest.mark.parametrize("staging", [False, True], ids=["unnest", "staging-table"])
async def test_a_text_too_long_for_its_column_is_refused_not_cut(db, monkeypatch, staging):
    """The arrays carry strings as ``text``: the column's own length is still enforced
    when the row is inserted, never a silent cut."""
    import asyncpg

    if staging:
        monkeypatch.setattr(bulk, "SMALL_BATCH", 0)
    cid = new_client_id()
    good = web("sessions", 1.0, dimension_value="Organic Social")
    long = web("sessions", 2.0, dimension_value="x" * 501)
    with pytest.raises(asyncpg.StringDataRightTruncationError):
        await loader.load(db, cid, [good, long])
    # Nothing of the load is kept: not the good row, not the account it created.
    assert await _accounts(db, cid) == []


async def test_duplicate_keys_in_one_batch_keep_the_last(db):
    cid = new_client_id()
    c = await loader.load(db, cid, [daily("followers", D0, 1), daily("followers", D0, 2)])
    assert c.daily_rows == 2
    assert await _daily(db, cid) == {("page-1", "followers", D0): 2.0}


@pytest.mark.parametrize(
    "bad, reason",
    [
        (daily("not_a_metric", D0, 1), "not a canonical metric"),
        (daily("followers", D0, float("nan")), "finite"),
    ],
)
async def test_refused_record_leaves_nothing(db, bad, reason):
    cid = new_client_id()
    good = [daily("followers", D0 + dt.timedelta(days=i), i) for i in range(30)]
    with pytest.raises(LoadError, match=reason):
        await loader.load(db, cid, [*good, post("p1"), bad], batch_size=10)
    assert await _daily(db, cid) == {}
    assert await _accounts(db, cid) == []


async def test_failure_mid_stream_is_not_a_partial_load(db):
    cid = new_client_id()
    await loader.load(db, cid, [daily("followers", D0, 1)])

    def broken() -> Iterator[DailyMetricRow]:
        acc = ref("page-1")
        for i in range(1, 95):
            yield DailyMetricRow(acc, "followers", D0 + dt.timedelta(days=i), float(i), i)
        raise OSError("the upload was cut")

    with pytest.raises(OSError, match="cut"):
        await loader.load(db, cid, broken(), FILE, batch_size=20)
    # The rows of the four batches already written are gone, the earlier load is intact,
    # and the session is still usable.
    assert await _daily(db, cid) == {("page-1", "followers", D0): 1.0}
    assert (
        await db.exec(
            select(func.count())
            .select_from(SourceRecord)
            .where(SourceRecord.client_id == cid, SourceRecord.file_name == "daily.csv")
        )
    ).one() == 0


async def test_agency_scope_creates_relay_accounts(db):
    ext = f"relay-{new_client_id()}"
    c = await loader.load(db, None, [daily("followers", D0, 9, account=ref(ext, Network.x))])
    acc = (await db.exec(select(Account).where(Account.external_id == ext))).one()
    assert acc.scope_key == "agency" and acc.owner_kind == "relay" and acc.client_id is None
    assert c.accounts_created == 1


async def test_naive_publication_time_is_refused(db):
    bad = post("p1").model_copy(update={"published_at": dt.datetime(2026, 5, 1, 14, 30)})
    with pytest.raises(LoadError, match="offset"):
        await loader.load(db, new_client_id(), [bad])


async def test_daily_rows_need_the_load_source(db):
    row = DailyMetricRow(ref(), "followers", D0, 1.0, 1)
    with pytest.raises(LoadError, match="source"):
        await loader.load(db, new_client_id(), [row])


async def test_load_on_a_bare_connection(connection):
    """The CLI and benchmarks hold an AsyncConnection, not a session."""
    cid = new_client_id()
    rows = [DailyMetricRow(ref("c"), "views", D0 + dt.timedelta(days=i), 1.0, i) for i in range(5)]
    counts = await loader.load(connection, cid, rows, FILE)
    assert counts.daily_written == 5
    n = await connection.scalar(
        select(func.count())
        .select_from(DailyMetric)
        .join(Account, col(Account.id) == DailyMetric.account_id)
        .where(Account.client_id == cid)
    )
    assert n == 5


async def test_progress_callback_may_use_the_loaders_connection(db, monkeypatch):
    """A job's progress row may be written on the connection the load is writing on
    (tests share one): the batch in flight settles before the callback runs."""
    monkeypatch.setattr(loader, "PROGRESS_EVERY_S", 0.0)
    cid = new_client_id()
    acc = ref("busy", Network.x)
    rows = [
        DailyMetricRow(acc, "views", D0 + dt.timedelta(days=i), float(i), i + 1) for i in range(30)
    ]
    posts = [post(f"p{i}", account=acc, reactions=float(i)) for i in range(30)]
    seen: list[int] = []

    async def on_batch(counts: loader.LoadCounts) -> None:
        seen.append(int((await db.exec(text("SELECT 1"))).scalar_one()))

    c = await loader.load(db, cid, [*rows, *posts], FILE, batch_size=10, on_batch=on_batch)
    assert c.daily_written == 30 and c.post_metrics_written == 30
    assert seen and set(seen) == {1}


async def _committed_values(conn, client_id: int) -> int:
    """How many daily values the client has, read on a connection of its own."""
    q = text(
        "SELECT count(*) FROM ingest_daily_metric d JOIN ingest_account a "
        "ON a.id = d.account_id WHERE a.client_id = :c"
    )
    return int((await conn.execute(q, {"c": client_id})).scalar_one())


@pytest.mark.skipif(
    DB_KIND != "postgres",
    reason="two writers at once: PostgreSQL (SQLite takes one writer at a time)",
)
async def test_two_loads_creating_the_same_account_and_source_at_once(engine):
    """Two transactions load values of an account and a source neither has seen: the second
    waits for the first, then takes its rows instead of failing or making twins."""
    cid = new_client_id()
    src = Source(kind="api", provider="push:race", version="1")
    first = [daily("followers", D0, 10, account=ref("race-1"))]
    second = [daily("followers", D0 + dt.timedelta(days=1), 11, account=ref("race-1"))]
    async with engine.connect() as a, engine.connect() as b:
        ta = await a.begin()
        made = await loader.load(a, cid, first, src)
        assert made.accounts_created == 1
        tb = await b.begin()
        racing = asyncio.create_task(loader.load(b, cid, second, src))
        await asyncio.sleep(0.5)
        assert not racing.done()  # waiting on the first transaction's account and source
        await ta.commit()
        joined = await asyncio.wait_for(racing, 10)
        await tb.commit()
    assert joined.accounts_created == 0
    assert joined.account_ids == made.account_ids
    assert joined.source_id == made.source_id
    async with engine.connect() as conn:
        accounts = (
            await conn.execute(
                text("SELECT count(*) FROM ingest_account WHERE client_id = :c"), {"c": cid}
            )
        ).scalar_one()
        sources = (
            await conn.execute(
                text("SELECT count(*) FROM ingest_source WHERE client_id = :c"), {"c": cid}
            )
        ).scalar_one()
        values = await _committed_values(conn, cid)
    assert (accounts, sources, values) == (1, 1, 2)


async def test_a_load_served_by_its_memo_is_inside_the_callers_transaction(engine):
    """With every id in the memo the load sends no statement through SQLAlchemy before
    the driver writes: without a savepoint, the caller's transaction must still hold the
    rows (rolled back with it), not a commit of each batch."""
    cid = new_client_id()
    src = Source(kind="api", provider="push:memo", version="1")
    memo = loader.LoadMemo()
    async with engine.begin() as conn:
        await loader.load(conn, cid, [daily("followers", D0, 1)], src, memo=memo)
    assert memo.accounts and memo.sources  # filled by the first load
    later = [daily("followers", D0 + dt.timedelta(days=i), i) for i in range(1, 4)]
    with pytest.raises(RuntimeError, match="caller gives up"):
        async with engine.begin() as conn:
            counts = await loader.load(conn, cid, later, src, savepoint=False, memo=memo)
            assert counts.daily_written == 3 and counts.accounts_created == 0
            raise RuntimeError("the caller gives up")
    async with engine.connect() as conn:
        values = await _committed_values(conn, cid)
    assert values == 1  # the first load's value only
