# ruff: noqa: S608 - the SQL pieces pasted in are constants and numbered bind names
"""Columnar streams of posts and daily metrics (see :mod:`shared.schemas.ingest_columns`).

Whole populations (the relay directory's 100,000 accounts) are read through these rather
than one JSON object per account. Memory stays bounded: accounts are taken
``ACCOUNT_BATCH`` at a time (ascending ids, so the stream is ordered by account), a
batch's posts are read through a server-side cursor ``chunk_rows`` rows at a time, and
each partition becomes one chunk as soon as it is read.

* A post's metric is its latest snapshot (``ingest_post_metric_latest``); a post without
  one has NaN / null there, never 0.
* ``followers_at_post`` has the same definition as the period stats' rate by follower:
  the latest daily followers count of the account on the local day of posting or at most
  ``FOLLOWERS_LOOKBACK_DAYS`` days before (the account's time zone decides the day).
* The period is ``[start, end]`` in UTC days, on ``published_at`` for posts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Date, DateTime, Integer, String, bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.stats import driver
from services.ingest.stats.localtime import offset_segments
from services.ingest.stats.repository import (
    FOLLOWERS_LOOKBACK_DAYS,
    AccountKey,
    dialect_of,
)
from shared import metrics_catalogue
from shared.errors import Invalid
from shared.perf import gc_paused
from shared.schemas.ingest_columns import (
    DailyColumnsQuery,
    PostColumnsQuery,
    encode_chunk,
)

ACCOUNT_BATCH = 2000
FOLLOWERS_AT_POST = "followers_at_post"
_TS = DateTime(timezone=True)
_DAY_BITS = 1 << 21  # more days than any period (3 years) plus its look-back


def check_post_metrics(metrics: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(metrics))
    bad = [
        m
        for m in names
        if m != FOLLOWERS_AT_POST
        and (m not in metrics_catalogue.CATALOGUE or metrics_catalogue.get(m).level == "account")
    ]
    if bad:
        raise Invalid(
            f"Unknown post metric(s): {', '.join(bad)}; use the catalogue's post metrics "
            f"or {FOLLOWERS_AT_POST!r}.",
            field="metrics",
        )
    return names


def check_daily_metrics(metrics: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(metrics))
    bad = [
        m
        for m in names
        if m not in metrics_catalogue.CATALOGUE or metrics_catalogue.get(m).level == "post"
    ]
    if bad:
        raise Invalid(f"Unknown account metric(s): {', '.join(bad)}.", field="metrics")
    return names


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def epoch_sql(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"


def _day_sql(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
    return f"({column} - DATE '1970-01-01')"


def _batches(accounts: Sequence[AccountKey]) -> list[list[AccountKey]]:
    ordered = sorted(accounts, key=lambda a: a.id)
    return [ordered[i : i + ACCOUNT_BATCH] for i in range(0, len(ordered), ACCOUNT_BATCH)]


def float_rows(part: Sequence[Any], width: int) -> np.ndarray:
    """Rows of numbers (None for no data) as a float array; NULL becomes NaN.

    Rows are split into columns first: NumPy handed SQLAlchemy's ``Row`` objects probes
    each one as a mapping (an exception per row, 40× slower).
    """
    if not part:
        return np.zeros((0, width))
    with gc_paused():
        columns = [np.array(c, dtype=np.float64) for c in zip(*part, strict=True)]
    return np.column_stack(columns).reshape(len(part), width)


# --------------------------------------------------------------------------- posts


async def followers_series(
    session: AsyncSession, ids: list[int], first: dt.date, last: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``account_id · 2^21 + epoch day`` and the followers of each."""
    d = dialect_of(session)
    sql = (
        f"SELECT account_id, {_day_sql(d, 'day')} AS eday, value FROM ingest_daily_metric "
        f"WHERE {driver.in_ids(d, 'account_id', 'ids')} AND metric = 'followers' "
        "AND day >= :s AND day <= :e ORDER BY account_id, day"
    )
    rows = float_rows(await driver.fetch(session, sql, {"ids": ids, "s": first, "e": last}), 3)
    keys = rows[:, 0].astype(np.int64) * _DAY_BITS + rows[:, 1].astype(np.int64)
    return keys, rows[:, 2]


def _local_days(
    ts: np.ndarray, acc: np.ndarray, batch: list[AccountKey], lo: dt.datetime, hi: dt.datetime
) -> np.ndarray:
    """Epoch day of each post in its account's zone (offsets looked up per instant)."""
    zones: dict[str, list[int]] = {}
    for a in batch:
        zones.setdefault(a.timezone, []).append(a.id)
    out = np.empty(ts.shape[0], dtype=np.int64)
    for tz, ids in zones.items():
        segs = offset_segments(tz, lo, hi)
        until = np.array([int(u.timestamp()) for u, _ in segs], dtype=np.int64)
        offs = np.array([o for _, o in segs], dtype=np.int64)
        mask = np.isin(acc, np.array(ids, dtype=np.int64)) if len(zones) > 1 else slice(None)
        t = ts[mask]
        k = np.minimum(np.searchsorted(until, t, side="right"), offs.shape[0] - 1)
        out[mask] = (t + offs[k]) // 86_400
    return out


def followers_at(
    acc: np.ndarray, local_day: np.ndarray, keys: np.ndarray, values: np.ndarray
) -> np.ndarray:
    out = np.full(acc.shape[0], np.nan)
    if keys.shape[0] == 0 or acc.shape[0] == 0:
        return out
    want = acc * _DAY_BITS + local_day
    j = np.searchsorted(keys, want, side="right") - 1
    jj = np.maximum(j, 0)
    found_acc = keys[jj] // _DAY_BITS
    found_day = keys[jj] % _DAY_BITS
    ok = (j >= 0) & (found_acc == acc) & (found_day >= local_day - FOLLOWERS_LOOKBACK_DAYS)
    out[ok] = values[jj[ok]]
    return out


async def _texts(
    session: AsyncSession, ids: list[int], lo: dt.datetime, hi: dt.datetime, n: int
) -> dict[int, str]:
    q = text(
        """
        SELECT id, txt FROM (
          SELECT p.id, p.text AS txt,
                 ROW_NUMBER() OVER (PARTITION BY p.account_id
                                    ORDER BY p.published_at DESC, p.id DESC) AS rn
          FROM ingest_post p
          WHERE p.account_id IN :ids AND p.published_at >= :lo AND p.published_at < :hi) x
        WHERE rn <= :n AND txt IS NOT NULL AND txt <> ''
        """
    ).bindparams(
        bindparam("ids", expanding=True, type_=Integer()),
        bindparam("lo", type_=_TS),
        bindparam("hi", type_=_TS),
        bindparam("n", type_=Integer()),
    )
    res = await (await session.connection()).execute(q, {"ids": ids, "lo": lo, "hi": hi, "n": n})
    return {int(i): t for i, t in res.all()}


async def post_columns(
    session: AsyncSession, accounts: Sequence[AccountKey], query: PostColumnsQuery
) -> AsyncIterator[bytes]:
    """The chunks (NDJSON lines) of the posts of ``accounts``, ordered by account, time."""
    metrics = check_post_metrics(query.metrics)
    stored = [m for m in metrics if m != FOLLOWERS_AT_POST]
    dialect = dialect_of(session)
    lo, hi = _utc(query.start), _utc(query.end + dt.timedelta(days=1))
    joins = " ".join(
        f"LEFT JOIN ingest_post_metric_latest m{k} ON m{k}.post_id = p.id AND m{k}.metric = :m{k}"
        for k in range(len(stored))
    )
    values = "".join(f", m{k}.value" for k in range(len(stored)))
    q = text(
        f"SELECT p.account_id, p.id, {epoch_sql(dialect, 'p.published_at')}{values} "
        f"FROM ingest_post p {joins} "
        "WHERE p.account_id IN :ids AND p.published_at >= :lo AND p.published_at < :hi "
        "ORDER BY p.account_id, p.published_at, p.id"
    ).bindparams(
        bindparam("ids", expanding=True, type_=Integer()),
        bindparam("lo", type_=_TS),
        bindparam("hi", type_=_TS),
        *(bindparam(f"m{k}", type_=String()) for k in range(len(stored))),
    )
    names = {f"m{k}": m for k, m in enumerate(stored)}
    width = 3 + len(stored)
    for batch in _batches(accounts):
        ids = [a.id for a in batch]
        fkeys = fvals = None
        if FOLLOWERS_AT_POST in metrics:
            first = query.start - dt.timedelta(days=FOLLOWERS_LOOKBACK_DAYS + 1)
            fkeys, fvals = await followers_series(
                session, ids, first, query.end + dt.timedelta(days=1)
            )
        texts = await _texts(session, ids, lo, hi, query.text_last) if query.text_last else {}
        conn = await session.connection()
        result = await conn.stream(q, {"ids": ids, "lo": lo, "hi": hi, **names})
        async for part in result.partitions(query.chunk_rows):
            rows = float_rows(part, width)
            acc = rows[:, 0].astype(np.int64)
            pid = rows[:, 1].astype(np.int64)
            ts = rows[:, 2].astype(np.int64)
            cols: dict[str, Any] = {"account_id": acc, "post_id": pid, "published_at": ts}
            k = 3
            for m in metrics:
                if m == FOLLOWERS_AT_POST:
                    assert fkeys is not None and fvals is not None
                    days = _local_days(ts, acc, batch, lo, hi)
                    cols[m] = followers_at(acc, days, fkeys, fvals)
                else:
                    cols[m] = rows[:, k]
                    k += 1
            if query.text_last:
                cols["text"] = [texts.get(p) for p in pid.tolist()]
            yield encode_chunk(cols, encoding=query.encoding)


# --------------------------------------------------------------------------- daily


async def daily_columns(
    session: AsyncSession, accounts: Sequence[AccountKey], query: DailyColumnsQuery
) -> AsyncIterator[bytes]:
    """Chunks of each metric in turn (``extra.metric``), ordered by account then day."""
    metrics = check_daily_metrics(query.metrics)
    d = dialect_of(session)
    q = text(
        f"SELECT account_id, {_day_sql(d, 'day')} AS eday, value FROM ingest_daily_metric "
        "WHERE account_id IN :ids AND metric = :m AND day >= :s AND day <= :e "
        "ORDER BY account_id, day"
    ).bindparams(
        bindparam("ids", expanding=True, type_=Integer()),
        bindparam("m", type_=String()),
        bindparam("s", type_=Date()),
        bindparam("e", type_=Date()),
    )
    for metric in metrics:
        for batch in _batches(accounts):
            conn = await session.connection()
            params = {"ids": [a.id for a in batch], "m": metric, "s": query.start, "e": query.end}
            result = await conn.stream(q, params)
            async for part in result.partitions(query.chunk_rows):
                rows = float_rows(part, 3)
                yield encode_chunk(
                    {
                        "account_id": rows[:, 0].astype(np.int64),
                        "day": rows[:, 1].astype(np.int64),
                        "value": rows[:, 2],
                    },
                    encoding=query.encoding,
                    extra={"metric": metric},
                )
