"""Loading the demo agency into a fresh SQLite database (what `make run` waits for, < 60 s).

The figure is the wall time of ``services.demo.loader.load_all`` on a migrated, empty
SQLite file (the embedded default): generating the demo, hashing the staff's passwords,
registering the accounts, storing every record through ingest's store loader, the
benchmark's directory and the planner's draft, and the commit. The baseline, in the same
run, inserts the same number of fact rows (daily, post-metric and web rows) with the raw
``sqlite3`` driver into one table with a unique key, in one transaction: the floor any
loader of that data pays. Runs: 3 (the median is reported).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Figure


def _raw_baseline(path: Path, rows: int) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE fact (id INTEGER PRIMARY KEY, account_id INT, metric TEXT, day DATE, "
        "value REAL, UNIQUE (account_id, metric, day))"
    )
    day0 = dt.date(2025, 1, 1)
    data = [
        (i // 5000, f"m{i % 50}", (day0 + dt.timedelta(days=i % 5000 // 50)).isoformat(), 1.0)
        for i in range(rows)
    ]
    t0 = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO fact (account_id, metric, day, value) VALUES (?, ?, ?, ?)", data
        )
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def run() -> list[Figure]:
    from alembic import command

    from services.demo.generate import generate
    from services.demo.loader import load_all
    from shared.db import alembic_config

    demo = generate()
    facts = sum(len(a.daily) for a in demo.all_accounts())
    facts += sum(len(p.metrics) for a in demo.all_accounts() for p in a.posts)
    facts += len(demo.client.website.daily) + len(demo.client.website.web)
    posts = sum(len({p.external_id for p in a.posts}) for a in demo.all_accounts())

    loads, bases, summary = [], [], {}
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/demo.db"
            command.upgrade(alembic_config(url), "head")
            t0 = time.perf_counter()
            summary = asyncio.run(load_all(url))
            loads.append(time.perf_counter() - t0)
            bases.append(_raw_baseline(Path(tmp) / "raw.db", facts))
    value, base = statistics.median(loads), statistics.median(bases)
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in summary.get("seconds", {}).items())
    return [
        Figure(
            name="demo_load_sqlite",
            value=round(value, 2),
            unit="s",
            baseline=round(base, 3),
            target="<=60s",
            note=f"{facts:,} fact rows, {posts:,} posts, {len(demo.relays)} relays; {parts}",
        )
    ]
