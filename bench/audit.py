"""The audit of a client: 10 accounts × 3 years of daily metrics and 20,000 posts (SQLite).

Figure 1: the median time (20 runs) of building the whole audit report (90 days compared
with the previous 90) through the service code on SQLite. Baseline, measured in the same
run on the same file: the raw SQL aggregate at the audit's core alone (posts of the period
grouped by account and content type, with the followers on the day of posting), run
through sqlite3 with no Python around it.

Figure 2: the stats of 100,000 relay accounts in one call (what the benchmark's rescoring
asks for: ``sections=[]``, 3 posts and 2 followers counts each), streamed as JSON by the
service code; baseline: the same per-account aggregate in one raw sqlite3 query.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Figure

ACCOUNTS = 10
DAYS = 3 * 365
POSTS = 20_000
CLIENT_ID = 1
END = dt.date(2025, 12, 31)
RUNS = 20
NETWORKS = ("facebook", "instagram", "x", "linkedin", "youtube", "pinterest")
TYPES = ("photo", "video", "reel", "carousel", "link", "text")


def _ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def load(path: Path) -> None:
    """Fill the store with the driver in one transaction (the load is not what is timed)."""
    rng = random.Random(42)
    con = sqlite3.connect(path)
    now = _ts(dt.datetime(2026, 1, 1))
    start = END - dt.timedelta(days=DAYS - 1)
    with con:
        for i in range(ACCOUNTS):
            con.execute(
                "INSERT INTO ingest_account (id, client_id, scope_key, owner_kind, network, "
                "external_id, name, timezone, collection_started_at, created_at, archived) "
                "VALUES (?, ?, ?, 'client', ?, ?, ?, 'America/Toronto', ?, ?, 0)",
                (
                    i + 1,
                    CLIENT_ID,
                    str(CLIENT_ID),
                    NETWORKS[i % len(NETWORKS)],
                    f"ext{i}",
                    f"Account {i}",
                    now,
                    now,
                ),
            )
        rows = []
        for a in range(1, ACCOUNTS + 1):
            followers = rng.randint(2_000, 50_000)
            for d in range(DAYS):
                day = (start + dt.timedelta(days=d)).isoformat()
                followers += rng.randint(-5, 25)
                rows.append((a, "followers", day, float(followers)))
                reach = rng.randint(200, 5_000)
                rows.append((a, "reach", day, float(reach)))
                rows.append((a, "impressions", day, float(reach * 2)))
                rows.append((a, "views", day, float(reach * 3)))
                rows.append((a, "engagements", day, float(rng.randint(5, 400))))
        con.executemany(
            "INSERT INTO ingest_daily_metric (account_id, metric, day, value) VALUES (?,?,?,?)",
            rows,
        )
        span = DAYS * 86_400
        base = dt.datetime.combine(start, dt.time())
        posts, metrics = [], []
        for p in range(1, POSTS + 1):
            a = rng.randint(1, ACCOUNTS)
            at = base + dt.timedelta(seconds=rng.randrange(span))
            posts.append((p, a, f"post{p}", _ts(at), rng.choice(TYPES), "Format"))
            reach = rng.randint(100, 20_000)
            snap = (at.date() + dt.timedelta(days=7)).isoformat()
            metrics += [
                (p, "engagements", snap, float(rng.randint(0, 900))),
                (p, "reach", snap, float(reach)),
                (p, "impressions", snap, float(reach * 2)),
                (p, "views", snap, float(reach * 3)),
            ]
        con.executemany(
            "INSERT INTO ingest_post (id, account_id, external_id, published_at, content_type, "
            "format) VALUES (?,?,?,?,?,?)",
            posts,
        )
        con.executemany(
            "INSERT INTO ingest_post_metric_latest (post_id, metric, snapshot_date, value) "
            "VALUES (?,?,?,?)",
            metrics,
        )
    con.execute("ANALYZE")
    con.close()


BASELINE_SQL = """
WITH pf AS (
  SELECT p.account_id, COALESCE(p.content_type, 'unknown') AS ctype,
         datetime(p.published_at, '-18000 seconds') AS lts, e.value AS eng
  FROM ingest_post p
  LEFT JOIN ingest_post_metric_latest e ON e.post_id = p.id AND e.metric = 'engagements'
  WHERE p.account_id IN (1,2,3,4,5,6,7,8,9,10) AND p.published_at >= ? AND p.published_at < ?
), pf2 AS (
  SELECT pf.*, (SELECT d.value FROM ingest_daily_metric d WHERE d.account_id = pf.account_id
     AND d.metric = 'followers' AND d.day <= date(pf.lts) AND d.day >= date(pf.lts, '-30 days')
     ORDER BY d.day DESC LIMIT 1) AS fol FROM pf
)
SELECT account_id, ctype, COUNT(*), SUM(eng), SUM(eng / fol), COUNT(CASE WHEN fol > 0 THEN eng END)
FROM pf2 GROUP BY account_id, ctype
"""


def _median_ms(fn, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


RELAYS = 100_000


def load_relays(path: Path) -> None:
    rng = random.Random(7)
    con = sqlite3.connect(path)
    now = _ts(dt.datetime(2026, 1, 1))
    first = 1000
    with con:
        con.executemany(
            "INSERT INTO ingest_account (id, client_id, scope_key, owner_kind, network, "
            "external_id, timezone, collection_started_at, created_at, archived) "
            "VALUES (?, NULL, 'agency', 'relay', 'instagram', ?, 'America/Toronto', ?, ?, 0)",
            [(first + i, f"relay{i}", now, now) for i in range(RELAYS)],
        )
        con.executemany(
            "INSERT INTO ingest_daily_metric (account_id, metric, day, value) VALUES (?,?,?,?)",
            [
                (first + i, "followers", day, float(rng.randint(100, 100_000)))
                for i in range(RELAYS)
                for day in ("2025-10-05", "2025-12-30")
            ],
        )
        posts, metrics = [], []
        pid = 1_000_000
        for i in range(RELAYS):
            for _ in range(3):
                pid += 1
                at = f"2025-11-{rng.randint(1, 28):02d} 15:00:00.000000"
                posts.append((pid, first + i, f"r{pid}", at, "photo"))
                metrics.append((pid, "engagements", "2025-12-01", float(rng.randint(0, 500))))
        con.executemany(
            "INSERT INTO ingest_post (id, account_id, external_id, published_at, content_type) "
            "VALUES (?,?,?,?,?)",
            posts,
        )
        con.executemany(
            "INSERT INTO ingest_post_metric_latest (post_id, metric, snapshot_date, value) "
            "VALUES (?,?,?,?)",
            metrics,
        )
    con.close()


RELAYS_SQL = """
WITH pf AS (
  SELECT p.account_id, datetime(p.published_at, '-18000 seconds') AS lts, e.value AS eng
  FROM ingest_post p
  LEFT JOIN ingest_post_metric_latest e ON e.post_id = p.id AND e.metric = 'engagements'
  WHERE p.account_id >= 1000 AND p.published_at >= ? AND p.published_at < ?
), pf2 AS (
  SELECT pf.*, (SELECT d.value FROM ingest_daily_metric d WHERE d.account_id = pf.account_id
     AND d.metric = 'followers' AND d.day <= date(pf.lts) AND d.day >= date(pf.lts, '-30 days')
     ORDER BY d.day DESC LIMIT 1) AS fol FROM pf
)
SELECT account_id, COUNT(*), SUM(eng), SUM(eng / fol), COUNT(CASE WHEN fol > 0 THEN eng END)
FROM pf2 GROUP BY account_id
"""


async def relays_figure(path: Path, url: str) -> Figure:
    from services.ingest.stats import repository as stats_repo
    from services.ingest.stats import service as stats_service
    from shared.db import create_engine, create_sessionmaker

    await asyncio.to_thread(load_relays, path)
    con = sqlite3.connect(path)
    t = time.perf_counter()
    con.execute(RELAYS_SQL, ("2025-10-01 04:00:00", "2026-01-01 05:00:00")).fetchall()
    baseline = (time.perf_counter() - t) * 1000
    con.close()
    engine = create_engine(url)
    ids = list(range(1000, 1000 + RELAYS))
    async with create_sessionmaker(engine)() as session:
        t = time.perf_counter()
        accounts = []
        for i in range(0, RELAYS, 5000):
            accounts += await stats_repo.accounts_by_ids(session, ids[i : i + 5000])
        size = 0
        async for line in stats_service.stats_json_for(
            session, accounts, dt.date(2025, 10, 1), dt.date(2025, 12, 31), sections=[]
        ):
            size += len(line) + 1
        value = (time.perf_counter() - t) * 1000
    await engine.dispose()
    return Figure(
        name="stats_100k_accounts_sqlite",
        value=value,
        unit="ms",
        target="<=60000ms",
        baseline=baseline,
        note=f"one run, {size / 1e6:.0f} MB of JSON; baseline = the per-account "
        "aggregate in one raw sqlite3 query",
    )


async def run() -> list[Figure]:
    from alembic import command

    from services.ingest.audit import service as audit_service
    from shared.db import alembic_config, create_engine, create_sessionmaker

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit-bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
        t0 = time.perf_counter()
        await asyncio.to_thread(load, path)
        print(
            f"   loaded {ACCOUNTS} accounts, {ACCOUNTS * DAYS * 5:,} daily rows, "
            f"{POSTS:,} posts in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        start = END - dt.timedelta(days=89)

        con = sqlite3.connect(path)
        lo, hi = "2025-10-03 04:00:00", "2026-01-01 05:00:00"
        con.execute(BASELINE_SQL, (lo, hi)).fetchall()
        baseline = _median_ms(lambda: con.execute(BASELINE_SQL, (lo, hi)).fetchall())
        con.close()

        engine = create_engine(url)
        maker = create_sessionmaker(engine)
        times = []
        report = None
        for i in range(RUNS + 2):
            async with maker() as session:
                t = time.perf_counter()
                report = await audit_service.build_report(session, CLIENT_ID, start, END)
                if i >= 2:  # two warm-up runs
                    times.append((time.perf_counter() - t) * 1000)
        await engine.dispose()
        assert report is not None and len(report.accounts) == ACCOUNTS
        posts = sum(a.current.posts for a in report.accounts)
        value = statistics.median(times)
        relays = await relays_figure(path, url)
    return [
        Figure(
            name="audit_sqlite_p50",
            value=value,
            unit="ms",
            target="<=500ms",
            baseline=baseline,
            note=f"{posts} posts in the period, {len(report.findings)} findings; "
            f"baseline = the core SQL aggregate alone through sqlite3",
        ),
        relays,
    ]
