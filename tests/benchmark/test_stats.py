"""Quantiles, percentile ranks and safe ratios: hand-computed cases and properties."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.benchmark import stats

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


def test_quartiles_hand_computed():
    # sorted 1,2,3,4,10 -> P25 at pos 1 = 2, P50 at pos 2 = 3, P75 at pos 3 = 4
    assert stats.quartiles([10, 1, 3, 2, 4]) == (2.0, 3.0, 4.0)
    # four values 1,2,3,4: P25 at pos .75 -> 1.75; P50 at 1.5 -> 2.5; P75 at 2.25 -> 3.25
    assert stats.quartiles([4, 3, 2, 1]) == (1.75, 2.5, 3.25)
    assert stats.quartiles([]) == (None, None, None)
    assert stats.quartiles([None, float("nan")]) == (None, None, None)
    assert stats.quartiles([7.0]) == (7.0, 7.0, 7.0)


def test_missing_values_are_dropped_not_zero():
    assert stats.median([None, 4, None, 2]) == 3.0


def test_percentile_rank_hand_computed():
    pop = [1, 2, 3, 4]
    # 3: two below, one equal, n=4 -> (2 + .5)/4 = 62.5
    assert stats.percentile_rank(3, pop) == 62.5
    assert stats.percentile_rank(1, pop) == 12.5
    assert stats.percentile_rank(4, pop) == 87.5
    # ties: [5,5,5,9] rank of 5 = (0 + 1.5)/4 = 37.5
    assert stats.percentile_rank(5, [5, 5, 5, 9]) == 37.5
    # a value outside the population is ranked as if added: 10 among [1,2,3] -> 3.5/4
    assert stats.percentile_rank(10, [1, 2, 3]) == 87.5
    assert stats.percentile_rank(2, [2]) == 50.0
    assert stats.percentile_rank(None, [1, 2]) is None


def test_ratio_and_growth_never_divide_by_zero():
    assert stats.ratio(5, 0) is None
    assert stats.ratio(None, 3) is None
    assert stats.ratio(3, 4) == 0.75
    assert stats.growth_pct(0, 100) is None
    assert stats.growth_pct(200, 250) == 0.25
    assert stats.growth_pct(200, 150) == -0.25


@given(st.lists(finite, min_size=1, max_size=40), finite)
def test_percentile_rank_within_bounds(pop, value):
    r = stats.percentile_rank(value, [*pop, value])
    assert r is not None and 0.0 < r < 100.0


@given(st.lists(finite, min_size=1, max_size=40), finite, finite)
def test_percentile_rank_is_monotone_in_the_value(pop, a, b):
    lo, hi = min(a, b), max(a, b)
    assert stats.percentile_rank(lo, pop) <= stats.percentile_rank(hi, pop)  # type: ignore[operator]


@given(st.lists(finite, min_size=1, max_size=40))
def test_quantiles_ordered_and_within_range(xs):
    p25, p50, p75 = stats.quartiles(xs)
    assert min(xs) <= p25 <= p50 <= p75 <= max(xs)


@given(st.lists(finite, min_size=1, max_size=40), st.randoms())
def test_quantiles_stable_under_reordering(xs, rnd):
    shuffled = list(xs)
    rnd.shuffle(shuffled)
    assert stats.quartiles(xs) == stats.quartiles(shuffled)


def test_quantile_matches_numpy_default():
    rng = random.Random(4)
    xs = [rng.uniform(0, 100) for _ in range(37)]
    for p in (0.1, 0.25, 0.5, 0.75, 0.9):
        assert stats.quantile(xs, p) == pytest.approx(float(np.quantile(xs, p)))


def test_group_percentile_ranks_match_the_scalar_definition():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 6, size=300).astype(float)
    values[::17] = np.nan
    groups = rng.integers(0, 7, size=300)
    ranks = stats.group_percentile_ranks(values, groups)
    for i in range(300):
        if math.isnan(values[i]):
            assert math.isnan(ranks[i])
            continue
        pop = values[(groups == groups[i]) & ~np.isnan(values)]
        assert ranks[i] == pytest.approx(stats.percentile_rank(values[i], list(pop)))


def test_segment_medians_hand_computed():
    values = np.array([3.0, 1.0, 2.0, 10.0, 20.0, np.nan, 5.0])
    seg = np.array([0, 0, 0, 1, 1, 1, 3])
    med = stats.segment_medians(values, seg, 4)
    assert med[0] == 2.0 and med[1] == 15.0 and math.isnan(med[2]) and med[3] == 5.0


@settings(max_examples=50)
@given(st.lists(st.tuples(st.integers(0, 5), finite), min_size=1, max_size=60))
def test_segment_medians_agree_with_median(pairs):
    seg = np.array([p[0] for p in pairs])
    vals = np.array([p[1] for p in pairs], dtype=float)
    med = stats.segment_medians(vals, seg, 6)
    # the documented bound: values closer than span · segments · 2⁻⁵² may swap places
    bound = (vals.max() - vals.min()) * 6 * 2.0**-50
    for s in range(6):
        expected = stats.median([v for g, v in pairs if g == s])
        if expected is None:
            assert math.isnan(med[s])
        else:
            assert med[s] == pytest.approx(expected, abs=bound)
