"""The statistics the benchmark states, each with one written definition.

* **Quantiles** (P25/P50/P75) use linear interpolation between order statistics
  (Hyndman–Fan type 7, NumPy's default): for sorted values ``x[0..n-1]`` the p-quantile is
  read at position ``p·(n-1)``.
* **Percentile rank** of a value in a population that contains it is the *mid-rank*
  definition: ``100 · (below + ½·equal) / n``. It lies in (0, 100), is symmetric (the
  median ranks 50), is non-decreasing in the value, and a lone value ranks 50.
* **None is "no data"** everywhere: it is dropped before computing, never read as zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def clean(values: Iterable[float | None]) -> list[float]:
    """The values that are data: no None, no NaN, no infinities."""
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def quantile(values: Iterable[float | None], p: float) -> float | None:
    xs = sorted(clean(values))
    if not xs:
        return None
    if not 0.0 <= p <= 1.0:
        raise ValueError("p must be within [0, 1]")
    pos = p * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    frac = pos - lo
    return xs[lo] + (xs[hi] - xs[lo]) * frac


def median(values: Iterable[float | None]) -> float | None:
    return quantile(values, 0.5)


def quartiles(values: Iterable[float | None]) -> tuple[float | None, float | None, float | None]:
    xs = clean(values)
    return quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75)


def percentile_rank(value: float | None, population: Iterable[float | None]) -> float | None:
    """Mid-rank percentile of ``value`` among ``population`` (which should include it).

    When ``value`` is not in the population it is ranked as if added to it.
    """
    if value is None or not math.isfinite(value):
        return None
    xs = clean(population)
    below = sum(1 for x in xs if x < value)
    equal = sum(1 for x in xs if x == value)
    n = len(xs)
    if equal == 0:  # rank it as a member of the population
        equal, n = 1, n + 1
    return 100.0 * (below + 0.5 * equal) / n


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    if not (math.isfinite(numerator) and math.isfinite(denominator)):
        return None
    return numerator / denominator


def growth_pct(start: float | None, end: float | None) -> float | None:
    """Growth as a ratio of the start value (0.05 = +5 %); None when start is 0 or missing."""
    if start is None or end is None:
        return None
    return ratio(end - start, start)


# --------------------------------------------------------------------------- vectorised


def group_percentile_ranks(values: FloatArray, groups: IntArray) -> FloatArray:
    """Mid-rank percentile of each value within its group, in one pass of sorting.

    NaN values get NaN and do not count in their group's population.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    ok = ~np.isnan(values)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    v = values[idx]
    g = groups[idx]
    order = np.lexsort((v, g))
    gs, vs = g[order], v[order]
    m = gs.shape[0]
    # Boundaries of groups and of runs of equal values inside a group.
    new_group = np.empty(m, dtype=bool)
    new_group[0] = True
    new_group[1:] = gs[1:] != gs[:-1]
    new_run = new_group.copy()
    new_run[1:] |= vs[1:] != vs[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(m), 0))
    run_id = np.cumsum(new_run) - 1
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, m))
    group_id = np.cumsum(new_group) - 1
    group_size = np.bincount(group_id)
    below = run_start[run_id] - group_start
    ranks = 100.0 * (below + 0.5 * run_len[run_id]) / group_size[group_id]
    out[idx[order]] = ranks
    return out


def segment_medians(values: FloatArray, segment: IntArray, n_segments: int) -> FloatArray:
    """Median of ``values`` per segment id in ``[0, n_segments)``; NaN where a segment is empty.

    NaN values are ignored. Every segment is served by one argsort of a single float key,
    ``segment + (value - min) / span`` (a lexsort of the pairs costs 4× more on 5 M rows).
    Values closer than ``span · n_segments · 2⁻⁵²`` may swap places in that order, so a
    median is exact up to that bound (1e-11 of the range for 100,000 segments).
    """
    out = np.full(n_segments, np.nan)
    ok = ~np.isnan(values)
    v = values[ok]
    s = segment[ok]
    if v.shape[0] == 0:
        return out
    counts = np.bincount(s, minlength=n_segments)
    has = counts > 0
    vmin = float(v.min())
    span = float(v.max()) - vmin
    if span == 0.0:
        out[has] = vmin
        return out
    key = s + (v - vmin) / (span * (1.0 + 2.0**-40))
    # Timsort: rows come grouped by segment (ingest streams them by account), so the key
    # is made of short unsorted runs in ascending blocks, which it merges almost for free.
    order = np.argsort(key, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    last = v.shape[0] - 1
    lo = np.minimum(starts + (counts - 1) // 2, last)
    hi = np.minimum(starts + counts // 2, last)
    med = (v[order[lo]] + v[order[hi]]) / 2.0
    out[has] = med[has]
    return out


def nanquantile_or_none(values: Sequence[float], p: float) -> float | None:
    return quantile(values, p)
