# ruff: noqa: S608 - the SQL pieces pasted in are constants; values are bound
"""The period's posts of some accounts as NumPy columns, and the stats' post figures.

``/v1/stats/accounts`` needs, per account, sums and counts of engagement rates per content
type, the median engagements per content type and a day × hour heatmap in the account's
zone. Three grouped queries with a local-time conversion and a followers look-up *per
post* (string date functions on SQLite) cost most of a peer benchmark's wait; two range
scans (the posts with their latest metrics; the followers series) and a few vector
operations give the same figures:

* local time: the zone's UTC offsets over the period (:func:`offset_segments`), looked up
  per post with ``searchsorted``;
* followers when posted: the latest daily count on the local day of posting or at most
  ``FOLLOWERS_LOOKBACK_DAYS`` before (see :mod:`services.ingest.stats.columns`);
* sums per (account, content type) with ``bincount``, with SQL's NULL rules: a post
  without engagements counts as a post but in no sum or rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.stats import driver
from services.ingest.stats.columns import (
    epoch_sql,
    followers_at,
    followers_series,
)
from services.ingest.stats.localtime import offset_segments, utc_bounds
from services.ingest.stats.repository import FOLLOWERS_LOOKBACK_DAYS, PostGroup, dialect_of
from shared.perf import gc_paused

DAY = 86_400


@dataclass
class PostFrame:
    account_id: np.ndarray  # int64
    ctype: np.ndarray  # int64 code into ``ctypes``
    ctypes: list[str]
    local: np.ndarray  # int64, local wall-clock epoch seconds
    eng: np.ndarray  # float64, NaN = no data
    rch: np.ndarray
    imp: np.ndarray
    vws: np.ndarray
    fol: np.ndarray  # followers when posted, NaN = unknown

    @property
    def n(self) -> int:
        return int(self.account_id.shape[0])


def _local_seconds(ts: np.ndarray, tz: str, lo: dt.datetime, hi: dt.datetime) -> np.ndarray:
    segs = offset_segments(tz, lo, hi)
    until = np.array([int(u.timestamp()) for u, _ in segs], dtype=np.int64)
    offs = np.array([o for _, o in segs], dtype=np.int64)
    k = np.minimum(np.searchsorted(until, ts, side="right"), offs.shape[0] - 1)
    return ts + offs[k]


async def load(
    session: AsyncSession, ids: Sequence[int], tz: str, start: dt.date, end: dt.date
) -> PostFrame:
    """The posts of ``ids`` published in ``[start, end]`` (local days of ``tz``)."""
    lo, hi = utc_bounds(tz, start, end)
    d = dialect_of(session)
    sql = f"""
        SELECT p.account_id, COALESCE(p.content_type, 'unknown') AS ctype,
               {epoch_sql(d, "p.published_at")} AS ts,
               e.value AS eng, r.value AS rch, i.value AS imp, v.value AS vws
        FROM ingest_post p
        LEFT JOIN ingest_post_metric_latest e ON e.post_id = p.id AND e.metric = 'engagements'
        LEFT JOIN ingest_post_metric_latest r ON r.post_id = p.id AND r.metric = 'reach'
        LEFT JOIN ingest_post_metric_latest i ON i.post_id = p.id AND i.metric = 'impressions'
        LEFT JOIN ingest_post_metric_latest v ON v.post_id = p.id AND v.metric = 'views'
        WHERE {driver.in_ids(d, "p.account_id", "ids")}
          AND p.published_at >= :lo AND p.published_at < :hi
    """
    rows = await driver.fetch(session, sql, {"ids": list(ids), "lo": lo, "hi": hi})
    with gc_paused():
        cols = list(zip(*rows, strict=True)) if rows else [()] * 7
        ctypes, codes = np.unique(np.array(cols[1], dtype=object), return_inverse=True)
        nums = np.zeros((len(rows), 6))
        for j, c in enumerate((0, 2, 3, 4, 5, 6)):
            nums[:, j] = np.array(cols[c], dtype=np.float64)  # NULL becomes NaN
    acc = nums[:, 0].astype(np.int64)
    ts = nums[:, 1].astype(np.int64)
    local = _local_seconds(ts, tz, lo, hi)
    fol = np.full(acc.shape[0], np.nan)
    if acc.shape[0]:
        first = start - dt.timedelta(days=FOLLOWERS_LOOKBACK_DAYS + 1)
        fkeys, fvals = await followers_series(session, list(ids), first, end + dt.timedelta(days=1))
        fol = followers_at(acc, local // DAY, fkeys, fvals)
    return PostFrame(
        account_id=acc,
        ctype=codes.astype(np.int64).reshape(-1),
        ctypes=[str(c) for c in ctypes],
        local=local,
        eng=nums[:, 2],
        rch=nums[:, 3],
        imp=nums[:, 4],
        vws=nums[:, 5],
        fol=fol,
    )


def _sum_n(
    key: np.ndarray, eng: np.ndarray, den: np.ndarray | None, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """SQL's ``SUM(eng / den)`` and ``COUNT`` over rows where both are known and den > 0."""
    if den is None:
        ok = ~np.isnan(eng)
        values = np.where(ok, eng, 0.0)
    else:
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(eng) & (den > 0)
        with np.errstate(all="ignore"):
            values = np.where(ok, eng / np.where(ok, den, 1.0), 0.0)
    return (
        np.bincount(key, weights=values, minlength=size),
        np.bincount(key, weights=ok.astype(np.float64), minlength=size),
    )


def groups(f: PostFrame) -> dict[tuple[int, str], PostGroup]:
    """Sums per (account, content type), as ``repository.post_groups`` defines them."""
    if f.n == 0:
        return {}
    accounts, acc_idx = np.unique(f.account_id, return_inverse=True)
    nt = len(f.ctypes)
    key = acc_idx.reshape(-1) * nt + f.ctype
    size = accounts.shape[0] * nt
    posts = np.bincount(key, minlength=size)
    sums = {
        "eng": _sum_n(key, f.eng, None, size),
        "erf": _sum_n(key, f.eng, f.fol, size),
        "err": _sum_n(key, f.eng, f.rch, size),
        "eri": _sum_n(key, f.eng, f.imp, size),
        "erv": _sum_n(key, f.eng, f.vws, size),
    }
    out: dict[tuple[int, str], PostGroup] = {}
    for k in np.flatnonzero(posts).tolist():
        g = PostGroup(posts=int(posts[k]))
        for name, (s, c) in sums.items():
            setattr(g, f"{name}_sum", float(s[k]))
            setattr(g, f"{name}_n", int(c[k]))
        out[(int(accounts[k // nt]), f.ctypes[k % nt])] = g
    return out


def median_engagements(f: PostFrame) -> dict[tuple[int, str], float]:
    """Median engagements per (account, content type), among posts that have a count."""
    ok = ~np.isnan(f.eng)
    if not bool(ok.any()):
        return {}
    nt = len(f.ctypes)
    key = f.account_id[ok] * nt + f.ctype[ok]
    eng = f.eng[ok]
    order = np.lexsort((eng, key))
    key, eng = key[order], eng[order]
    heads = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    counts = np.diff(np.append(heads, key.shape[0]))
    med = (eng[heads + (counts - 1) // 2] + eng[heads + counts // 2]) / 2.0
    return {
        (int(k // nt), f.ctypes[int(k % nt)]): float(m)
        for k, m in zip(key[heads].tolist(), med.tolist(), strict=True)
    }


def heatmap(f: PostFrame) -> dict[int, list[list[int]]]:
    """7 × 24 counts of posts per account, Monday first, in local time."""
    if f.n == 0:
        return {}
    accounts, acc_idx = np.unique(f.account_id, return_inverse=True)
    days = f.local // DAY
    dow = (days + 3) % 7  # 1 January 1970 was a Thursday
    hour = (f.local % DAY) // 3600
    cell = acc_idx.reshape(-1) * 168 + dow * 24 + hour
    grid = np.bincount(cell, minlength=accounts.shape[0] * 168).reshape(-1, 7, 24)
    return {int(a): grid[i].tolist() for i, a in enumerate(accounts.tolist())}


def engagement_heatmap(
    f: PostFrame,
) -> dict[int, tuple[list[list[float | None]], list[list[int]]]]:
    """Per account, 7 × 24 mean engagement rate by follower and the posts behind each
    cell (posts with both engagements and followers when posted), Monday first, local."""
    if f.n == 0:
        return {}
    accounts, acc_idx = np.unique(f.account_id, return_inverse=True)
    days = f.local // DAY
    cell = acc_idx.reshape(-1) * 168 + ((days + 3) % 7) * 24 + (f.local % DAY) // 3600
    total, n = _sum_n(cell, f.eng, f.fol, accounts.shape[0] * 168)
    sums, counts = total.reshape(-1, 7, 24), n.reshape(-1, 7, 24).astype(np.int64)
    out: dict[int, tuple[list[list[float | None]], list[list[int]]]] = {}
    for i, a in enumerate(accounts.tolist()):
        srows, crows = sums[i].tolist(), counts[i].tolist()
        means: list[list[float | None]] = [
            [(x / c) if c else None for x, c in zip(srow, crow, strict=True)]
            for srow, crow in zip(srows, crows, strict=True)
        ]
        out[int(a)] = (means, crows)
    return out
