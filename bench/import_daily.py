"""Import of a daily-metrics CSV: rows/s against the raw driver, and peak RSS.

* **Throughput** — a 1,000,000-row CSV in Balise's long format (100 accounts × 10 metrics
  × 1,000 days) imported by the real import path (``pipeline.import_file``: parse,
  validate, resolve accounts, upsert through the loader, commit) into a fresh, migrated
  database; next to it, in the same run, the raw driver loading the same rows (already
  in memory, as tuples) into the same table with the same unique key, in one
  transaction: ``sqlite3.executemany`` on SQLite, asyncpg binary ``COPY`` on
  PostgreSQL. Target: at least half the raw driver's rate. Medians of ``BENCH_RUNS``
  runs (default 3), each on an empty table.
* **Memory** — peak RSS of a ``balise import`` process (a subprocess reporting its own
  ``VmHWM``; Linux) on 1M and 5M rows, SQLite. Target: under 300 MB whatever the size.

PostgreSQL: ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/
balise_bench_import``, dropped and recreated). ``BENCH_IMPORT_ROWS`` changes the row
count of the throughput figure (e.g. for a quick look).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.common import Figure

ROOT = Path(__file__).resolve().parent.parent
METRICS = (
    "views", "reach", "impressions", "engagements", "reactions",
    "comments", "shares", "saves", "clicks", "followers",
)  # fmt: skip
DAYS = 1000
START = dt.date(2022, 1, 1)
CLIENT_ID = 1


# ------------------------------------------------------------------------ data


def rows(n: int) -> Iterator[tuple[int, str, dt.date, float]]:
    """(account number, metric, day, value) in the order the CSV is written."""
    days = [START + dt.timedelta(days=i) for i in range(DAYS)]
    i = 0
    account = 0
    while True:
        for metric in METRICS:
            for day in days:
                if i >= n:
                    return
                yield account, metric, day, float((i * 7919) % 100_000)
                i += 1
        account += 1


def write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("network,account_id,metric,day,value\n")
        buf: list[str] = []
        for account, metric, day, value in rows(n):
            buf.append(f"facebook,acct-{account:05d},{metric},{day.isoformat()},{value:.1f}\n")
            if len(buf) >= 50_000:
                fh.writelines(buf)
                buf.clear()
        fh.writelines(buf)


def raw_tuples(n: int, account_ids: dict[int, int], source_id: int) -> list[tuple[Any, ...]]:
    return [(account_ids[a], m, d, v, source_id, i + 2) for i, (a, m, d, v) in enumerate(rows(n))]


# ------------------------------------------------------------------------ databases


def migrate(url: str) -> None:
    from alembic import command

    from shared.db import alembic_config

    command.upgrade(alembic_config(url), "head")


def fresh_sqlite(folder: Path, name: str) -> str:
    path = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"
    migrate(url)
    return url


def pg_url() -> str:
    return os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/balise_bench_import"
    )


async def fresh_pg(url: str) -> bool:
    import asyncpg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    try:
        conn = await asyncpg.connect(admin, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
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
    return True


# ------------------------------------------------------------------------ measures


async def import_once(url: str, csv_path: Path) -> float:
    """Seconds for the real import path, commit included, into an empty table."""
    from services.ingest.importers import pipeline
    from shared.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            t0 = time.perf_counter()
            out = await pipeline.import_file(conn, CLIENT_ID, csv_path, sha256="bench")
            await conn.commit()
            elapsed = time.perf_counter() - t0
        assert out.status == "succeeded", out.errors[:3]
        assert out.counts is not None and out.counts.daily_written == out.counts.daily_rows
        return elapsed
    finally:
        await engine.dispose()


def sqlite_raw_once(url: str, n: int) -> float:
    """Seconds for sqlite3.executemany of the same rows in one transaction."""
    path = url.split(":///", 1)[1]
    conn = sqlite3.connect(path)
    try:
        # The same pragmas as Balise's engine (shared/db.py).
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
        ):
            conn.execute(pragma)
        now = "2026-01-01 00:00:00"
        ids = {}
        for a in range(n // (len(METRICS) * DAYS) + 1):
            cur = conn.execute(
                "INSERT INTO ingest_account (client_id, scope_key, owner_kind, network, "
                "external_id, timezone, collection_started_at, created_at, archived) "
                "VALUES (?, ?, 'client', 'facebook', ?, 'America/Toronto', ?, ?, 0)",
                (CLIENT_ID, str(CLIENT_ID), f"acct-{a:05d}", now, now),
            )
            ids[a] = cur.lastrowid
        src = conn.execute(
            "INSERT INTO ingest_source (client_id, kind, provider, created_at) "
            "VALUES (?, 'file', 'raw', ?)",
            (CLIENT_ID, now),
        ).lastrowid
        conn.commit()
        data = raw_tuples(n, ids, int(src or 0))
        t0 = time.perf_counter()
        conn.executemany(
            "INSERT INTO ingest_daily_metric (account_id, metric, day, value, source_id, "
            "source_row) VALUES (?, ?, ?, ?, ?, ?)",
            data,
        )
        conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()


async def pg_raw_once(url: str, n: int) -> float:
    """Seconds for asyncpg COPY of the same rows in one transaction."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "TRUNCATE ingest_daily_metric, ingest_post_metric_latest, ingest_post_metric, "
            "ingest_post, ingest_channel_total, ingest_web_metric, ingest_web_period_metric, "
            "ingest_import, ingest_account, ingest_source CASCADE"
        )
        ids = {}
        now = dt.datetime.now(dt.UTC)
        for a in range(n // (len(METRICS) * DAYS) + 1):
            ids[a] = await conn.fetchval(
                "INSERT INTO ingest_account (client_id, scope_key, owner_kind, network, "
                "external_id, timezone, collection_started_at, created_at, archived) "
                "VALUES ($1, $2, 'client', 'facebook', $3, 'America/Toronto', $4, $4, false) "
                "RETURNING id",
                CLIENT_ID,
                str(CLIENT_ID),
                f"acct-{a:05d}",
                now,
            )
        src = await conn.fetchval(
            "INSERT INTO ingest_source (client_id, kind, provider, created_at) "
            "VALUES ($1, 'file', 'raw', $2) RETURNING id",
            CLIENT_ID,
            now,
        )
        data = raw_tuples(n, ids, src)
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "ingest_daily_metric",
                records=data,
                columns=["account_id", "metric", "day", "value", "source_id", "source_row"],
            )
        return time.perf_counter() - t0
    finally:
        await conn.close()


async def pg_bare_copy(url: str, n: int) -> float:
    """Rows/s of COPY into a table with the unique key and nothing else (no foreign key)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "CREATE TEMP TABLE bench_bare (id bigserial PRIMARY KEY, account_id int NOT NULL, "
            "metric varchar(40) NOT NULL, day date NOT NULL, value float8 NOT NULL, "
            "source_id int, source_row int, UNIQUE (account_id, metric, day))"
        )
        data = raw_tuples(n, {a: a + 1 for a in range(n // (len(METRICS) * DAYS) + 1)}, 1)
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table(
                "bench_bare",
                records=data,
                columns=["account_id", "metric", "day", "value", "source_id", "source_row"],
            )
        return n / (time.perf_counter() - t0)
    finally:
        await conn.close()


async def pg_clear(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "TRUNCATE ingest_daily_metric, ingest_post_metric_latest, ingest_post_metric, "
            "ingest_post, ingest_channel_total, ingest_web_metric, ingest_web_period_metric, "
            "ingest_import, ingest_account, ingest_source CASCADE"
        )
        await conn.execute("VACUUM ANALYZE ingest_daily_metric")
    finally:
        await conn.close()


def peak_rss_mb(folder: Path, csv_path: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of ``balise import`` on a fresh SQLite database."""
    db = folder / "rss.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "BALISE_VAR_DIR": str(folder / "var"),
        "BALISE_SECRET_KEY": "bench-secret-key-0123456789-0123456789-0123456789",
        "LOG_JSON": "true",
    }
    env.pop("REDIS_URL", None)
    cli = [sys.executable, "-m", "services.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*cli, "client", "create", "Bench", "--slug", "bench"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    peak_file = folder / "rss.peak"
    peak_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, "import", str(csv_path), "--client", "bench", "--json"],
        env={**env, "BALISE_BENCH_PEAK": str(peak_file)},
        cwd=ROOT,
        capture_output=True,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"balise import failed: {proc.stderr.decode()[-500:]}")
    return int(peak_file.read_text()) / 1024, elapsed


# The child is `balise import` itself, reporting its own peak resident set (VmHWM of its
# own address space) as it exits. The rusage of a child is no use here: its maximum
# includes the parent's pages shared at fork time, before the exec.
_CHILD = """
import atexit, os, sys

def _peak():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                with open(os.environ["BALISE_BENCH_PEAK"], "w") as out:
                    out.write(line.split()[1])

atexit.register(_peak)
sys.argv = ["balise", *sys.argv[1:]]
from services.cli import main
main()
"""


# ------------------------------------------------------------------------ run


def run() -> list[Figure]:
    n = int(os.environ.get("BENCH_IMPORT_ROWS", "1000000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="balise-bench-import-") as tmp:
        folder = Path(tmp)
        csv_path = folder / f"daily_{n}.csv"
        write_csv(csv_path, n)

        # SQLite: alternate the two paths so that machine noise hits both alike.
        ours, raw = [], []
        for i in range(runs):
            ours.append(asyncio.run(import_once(fresh_sqlite(folder, f"ours{i}"), csv_path)))
            raw.append(sqlite_raw_once(fresh_sqlite(folder, f"raw{i}"), n))
        figures.append(_throughput("import_daily_sqlite", n, ours, raw, "sqlite3 executemany"))

        url = pg_url()
        if asyncio.run(fresh_pg(url)):
            migrate(url)
            ours, raw = [], []
            for _ in range(runs):
                asyncio.run(pg_clear(url))
                ours.append(asyncio.run(import_once(url, csv_path)))
                raw.append(asyncio.run(pg_raw_once(url, n)))
            asyncio.run(pg_clear(url))
            figures.append(_throughput("import_daily_postgres", n, ours, raw, "asyncpg COPY"))
            bare = asyncio.run(pg_bare_copy(url, n))
            print(
                f"   (context: asyncpg COPY of the same rows into a bare table with only the "
                f"unique key: {bare:,.0f} rows/s; ingest_daily_metric's foreign keys are "
                f"checked row by row by PostgreSQL, for the raw driver and for the import alike)",
                flush=True,
            )
        else:
            print(f"   PostgreSQL unreachable at {url}: its figure is not measured", flush=True)

        for size in (1_000_000, 5_000_000):
            path = csv_path if size == n else folder / f"daily_{size}.csv"
            if size != n:
                write_csv(path, size)
            mb, secs = peak_rss_mb(folder, path)
            figures.append(
                Figure(
                    name=f"import_daily_peak_rss_{size // 1_000_000}m",
                    value=round(mb, 1),
                    unit="MB",
                    target="<=300MB",
                    note=f"balise import of {size:,} rows on SQLite, {secs:.0f} s",
                )
            )
            if path != csv_path:
                path.unlink()
    return figures


def _throughput(name: str, n: int, ours: list[float], raw: list[float], what: str) -> Figure:
    o = n / statistics.median(ours)
    r = n / statistics.median(raw)
    return Figure(
        name=f"{name}_rows_per_s",
        value=round(o),
        unit="rows/s",
        baseline=round(r),
        target=">=0.5",
        note=f"{n:,} rows, median of {len(ours)}; baseline {what} into the same table",
    )
