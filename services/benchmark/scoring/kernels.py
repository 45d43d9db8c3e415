"""Compiled per-account reductions of the scoring engine (Numba).

Ingest streams rows grouped by account (then by time), so each account's rows form one
run. One pass over a run gives everything the engine measures for that account: counts,
recency, the median rate (a sort of the run's few dozen rates instead of one sort of
all 5,000,000), the sums of the coefficient of variation, the latest follower count and
the growth spikes. The kernels join the stream to the account table as they go (both
are ordered by account id) and release the GIL, so :func:`engine.reduce_all` runs one
per core on separate account ranges.

Each kernel first checks that the rows are in the order it needs and returns ``False``
without writing anything when they are not; the engine then sorts and calls it again.
Compiled code is cached on disk (``cache=True``); :func:`warm_up` compiles or loads it
ahead of the first real run (the benchmark worker calls it when it starts).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def _run(acc, j, table_ids, pos):
    """The run of rows starting at ``j`` (one account): its end, and ``pos`` moved to the
    account in ``table_ids`` (both ascending), with whether the table has it."""
    a = acc[j]
    k = j + 1
    while k < acc.shape[0] and acc[k] == a:
        k += 1
    n = table_ids.shape[0]
    while pos < n and table_ids[pos] < a:
        pos += 1
    return k, pos, pos < n and table_ids[pos] == a


@njit(nogil=True, cache=True)
def _grouped(acc):
    for r in range(1, acc.shape[0]):  # noqa: SIM110  (a loop: Numba compiles no generator)
        if acc[r] < acc[r - 1]:
            return False
    return True


def _posts(
    table_ids,
    acc,
    ts,
    eng,
    fol,
    t_lo,
    t_hi,
    t_recent,
    cv_min_posts,
    posts_window,
    posts_recent,
    last_post,
    er_median,
    er_posts,
    er_cv,
    has_posts,
):
    """Posts with ``t_lo < published_at <= t_hi`` → each account's facts.

    A post's rate is engagements ÷ followers when posted, only where followers ≥ 1 and
    engagements are known. Rows of accounts missing from ``table_ids`` are skipped.
    """
    if not _grouped(acc):
        return False
    n_rows = acc.shape[0]
    buf = np.empty(256)
    pos = np.searchsorted(table_ids, acc[0]) if n_rows else 0
    j = 0
    while j < n_rows:
        k, pos, known = _run(acc, j, table_ids, pos)
        if known:
            if k - j > buf.shape[0]:
                buf = np.empty(2 * (k - j))
            cnt = 0
            rec = 0
            last = -1
            m = 0
            s1 = 0.0
            s2 = 0.0
            for r in range(j, k):
                t = ts[r]
                if t <= t_lo or t > t_hi:
                    continue
                cnt += 1
                if t > t_recent:
                    rec += 1
                if cnt == 1 or t > last:
                    last = t
                e = eng[r]
                f = fol[r]
                if f >= 1.0 and not math.isnan(e):
                    x = e / f
                    buf[m] = x
                    m += 1
                    s1 += x
                    s2 += x * x
            posts_window[pos] = cnt
            posts_recent[pos] = rec
            if cnt > 0:
                has_posts[pos] = True
                last_post[pos] = float(last)
            er_posts[pos] = m
            if m > 0:
                er_median[pos] = np.median(buf[:m])
                mean = s1 / m
                var = max(s2 / m - mean * mean, 0.0)
                if m >= cv_min_posts and mean > 0:
                    er_cv[pos] = math.sqrt(var) / mean
        j = k
    return True


@njit(nogil=True, cache=True)
def _ordered_days(acc, day):
    for r in range(1, acc.shape[0]):
        if acc[r] < acc[r - 1] or (acc[r] == acc[r - 1] and day[r] < day[r - 1]):
            return False
    return True


def _followers(
    table_ids,
    acc,
    day,
    val,
    min_days,
    min_gain,
    min_share,
    mean_factor,
    latest,
    spikes,
    max_spike_gain,
):
    """Daily follower counts ordered by (account, day) → latest count and growth spikes.

    A pair is two known values on consecutive days; a spike is a pair gaining at least
    ``min_gain``, more than ``min_share`` of the day before and more than ``mean_factor``
    × the account's mean absolute change over its pairs. Spikes are looked for only with
    ``min_days`` pairs or more (else ``spikes`` stays -1: not assessed).
    """
    if not _ordered_days(acc, day):
        return False
    n_rows = acc.shape[0]
    pos = np.searchsorted(table_ids, acc[0]) if n_rows else 0
    j = 0
    while j < n_rows:
        k, pos, known = _run(acc, j, table_ids, pos)
        if known:
            have = False
            prev_day = 0
            prev_val = 0.0
            pairs = 0
            abs_sum = 0.0
            for r in range(j, k):
                v = val[r]
                if math.isnan(v):
                    continue
                if have and day[r] - prev_day == 1:
                    pairs += 1
                    abs_sum += abs(v - prev_val)
                prev_day = day[r]
                prev_val = v
                have = True
            if have:
                latest[pos] = prev_val
            if pairs >= min_days:
                mean_abs = abs_sum / pairs
                count = 0
                biggest = 0.0
                have = False
                for r in range(j, k):
                    v = val[r]
                    if math.isnan(v):
                        continue
                    if have and day[r] - prev_day == 1:
                        gain = v - prev_val
                        if (
                            gain >= min_gain
                            and gain > min_share * prev_val
                            and gain > mean_factor * mean_abs
                        ):
                            if count == 0 or gain > biggest:
                                biggest = gain
                            count += 1
                    prev_day = day[r]
                    prev_val = v
                    have = True
                spikes[pos] = count
                if count > 0:
                    max_spike_gain[pos] = biggest
        j = k
    return True


# Typed for callers: Numba's dispatcher declares no parameters.
posts: Callable[..., bool] = njit(nogil=True, cache=True)(_posts)
followers: Callable[..., bool] = njit(nogil=True, cache=True)(_followers)


def warm_up() -> None:
    """Compile (or load from the disk cache) both kernels for the engine's column types:
    writable arrays, and the read-only views decoded straight from ingest's frames."""
    ids = np.array([1, 2], dtype=np.int64)
    for writable in (True, False):
        rows = ids.copy()
        nan = np.full(2, np.nan)
        rows.flags.writeable = writable
        nan.flags.writeable = writable
        one = np.zeros(2, dtype=np.int64)
        out = np.full(2, np.nan)
        flags = np.zeros(2, dtype=bool)
        posts(ids, rows, rows, nan, nan, 0, 1, 0, 10, one, one.copy(), out, out.copy(),
              one.copy(), out.copy(), flags)  # fmt: skip
        followers(ids, rows, rows, nan, 14, 100.0, 0.05, 10.0, out.copy(), one.copy(), out.copy())
