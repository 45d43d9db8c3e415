"""The scoring engine on hand-computed cases, and its properties.

Each expected figure below is worked out by hand from the module's definitions; the
comments show the arithmetic.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.benchmark.scoring import engine as E
from services.benchmark.scoring.explain import relay_explanation

DAY = 86_400
AS_OF = 1_750_000_000  # epoch seconds
AS_OF_DAY = AS_OF // DAY


def _posts(rows):
    """rows: (account, days_before_as_of, engagements, followers_at_post)."""
    return E.PostColumns(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([AS_OF - int(r[1] * DAY) for r in rows], dtype=np.int64),
        np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=float),
        np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float),
    )


def _daily(rows):
    return E.DailyColumns(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=float),
    )


def _scenario():
    accounts = E.AccountTable.build(
        [(10, 0, "instagram"), (20, 1, "x"), (30, 2, "facebook"), (40, 3, "facebook")], 4
    )
    # Relay 0, Instagram: 12 posts with engagements 10..120 at 20,000 followers; six of
    # them in the last 90 days, the newest 2 days ago.
    posts = [(10, 2 + 10 * k, 10 * (k + 1), 20_000) for k in range(6)]
    posts += [(10, 100 + 20 * k, 70 + 10 * k, 20_000) for k in range(6)]
    # Relay 3: zero followers at posting: no rate, no division by zero.
    posts += [(40, 5, 30, 0), (40, 6, 12, 0)]
    # A post outside the 12-month window is ignored.
    posts += [(10, 400, 999_999, 20_000)]
    post_cols = _posts(posts)
    followers = [(10, AS_OF_DAY - 29 + d, 19_710 + 10 * d) for d in range(30)]
    followers += [(20, AS_OF_DAY - 20 + d, 500) for d in range(20)] + [(20, AS_OF_DAY, 900)]
    followers += [(40, AS_OF_DAY, 0)]
    following = [(10, AS_OF_DAY, 300), (20, AS_OF_DAY, 2000)]
    facts = E.AccountFacts.empty(accounts.n)
    E.reduce_posts(accounts, post_cols, facts, AS_OF)
    E.reduce_followers(accounts, _daily(followers), facts)
    facts.following[:] = E.reduce_latest(accounts, _daily(following))
    return accounts, facts


def test_hand_computed_components():
    accounts, facts = _scenario()
    s = E.score(accounts, facts, as_of=AS_OF)

    # Relay 0 -------------------------------------------------------------------
    # rates 0.0005 … 0.0060 (12 posts): median = (0.0030 + 0.0035) / 2 = 0.00325
    assert facts.er_median[0] == pytest.approx(0.00325)
    assert facts.posts_window[0] == 12 and facts.posts_recent[0] == 6
    assert facts.followers[0] == 20_000 and facts.spikes[0] == 0
    # reach: 100 × (log10(20,000) − 2) / 5 = 46.0206
    assert s.reach[0] == pytest.approx(100 * (math.log10(20_000) - 2) / 5)
    # micro tier (HypeAuditor 10K–50K); published Instagram micro rate 0.54 %
    assert E.TIERS[s.tier[0]] == "micro" and s.acct_benchmark[0] == 0.0054
    # resonance: 50 + 50 × log2(0.00325 / 0.0054) = 13.38
    assert s.resonance[0] == pytest.approx(50 + 50 * math.log2(0.00325 / 0.0054))
    # activity: 6 posts in 90 days = 0.4667/week → 60 × 0.4667/3 = 9.333; last post 2
    # days ago → recency 1 → 40. Total 49.333
    assert s.activity[0] == pytest.approx(60 * (6 / (90 / 7)) / 3 + 40)
    assert s.authenticity[0] == 100.0
    expected = (0.2 * s.reach[0] + 0.3 * s.resonance[0] + 0.15 * 100 + 0.1 * s.activity[0]) / 0.75
    assert s.composite[0] == pytest.approx(expected)

    # Relay 1 -------------------------------------------------------------------
    # 900 followers (under HypeAuditor's nano tier), follows 2,000 accounts: mass
    # follower (−30) and following ≥ followers (−20); +400 in a day after 19 flat days
    # is a spike (≥ 100, > 5 % of 500, > 10 × mean |change| = 10 × 400/20) → −15.
    assert facts.spikes[1] == 1 and facts.max_spike_gain[1] == 400
    assert s.authenticity[1] == 100 - 30 - 20 - 15
    assert math.isnan(s.resonance[1])  # under 2,000 followers: not scored
    assert s.reach[1] == pytest.approx(100 * (math.log10(900) - 2) / 5)
    assert s.activity[1] == 0.0  # followed, no post in 12 months
    assert s.tier[1] == -1

    # Relay 2: registered but nothing collected: nothing is scored, nothing is zero.
    for comp in (s.reach, s.resonance, s.authenticity, s.activity, s.composite):
        assert math.isnan(comp[2])

    # Relay 3: zero followers: no rate, reach 0, and no division by zero anywhere.
    assert math.isnan(facts.er_median[3])
    assert s.reach[3] == 0.0


def test_explanation_states_rules_and_data():
    accounts, facts = _scenario()
    s = E.score(accounts, facts, as_of=AS_OF)
    ex = relay_explanation(s, 1, [1])
    acc = ex["accounts"][0]
    assert acc["resonance_not_scored"].startswith("under 2,000 followers")
    by_name = {c["check"]: c for c in acc["authenticity_checks"]}
    assert by_name["mass_follower"]["result"] == "warning"
    assert by_name["mass_follower"]["points_lost"] == 30
    assert by_name["growth_spikes"]["evidence"].startswith("1 spike day")
    assert by_name["engagement_anomalies"]["result"] == "not_assessed"
    ex0 = relay_explanation(s, 0, [0])
    assert "HypeAuditor" in ex0["accounts"][0]["benchmark_source"]
    assert ex0["components"]["reach"]["data"]["followers"] == 20_000
    assert "log10" in ex0["components"]["reach"]["rule"]


def test_directory_median_serves_when_no_published_benchmark():
    # 25 Facebook "mid" accounts (no published figure for that tier × network).
    n = 25
    accounts = E.AccountTable.build([(100 + i, i, "facebook") for i in range(n)], n)
    rows = []
    for i in range(n):
        for k in range(10):  # each account: 10 posts at rate (i + 1) / 10,000
            rows.append((100 + i, 1 + k, (i + 1) * 10, 100_000))
    facts = E.AccountFacts.empty(n)
    E.reduce_posts(accounts, _posts(rows), facts, AS_OF)
    facts.followers[:] = 100_000
    s = E.score(accounts, facts, as_of=AS_OF)
    # cohort median of rates 1..25 (/10,000) = 13/10,000
    assert s.acct_benchmark[0] == pytest.approx(0.0013)
    assert s.acct_benchmark_kind[0] == 2 and s.acct_cohort_size[0] == 25
    # account 12 sits at the median: resonance 50, percentile (12 + 0.5)/25 = 50
    assert s.acct_resonance[12] == pytest.approx(50.0)
    assert s.acct_percentile[12] == pytest.approx(50.0)
    # every post has the same rate within an account: uniform engagement flagged
    assert s.acct_flags[0] & E.FLAG_ER_UNIFORM
    ex = relay_explanation(s, 0, [0])
    assert ex["accounts"][0]["benchmark_source"].startswith("median of the 25 mid facebook")


def test_weights_are_renormalised_over_present_components():
    parts = {"a": np.array([80.0, np.nan]), "b": np.array([40.0, 60.0])}
    out = E.composite(parts, {"a": 3, "b": 1})
    assert out[0] == pytest.approx((3 * 80 + 40) / 4)
    assert out[1] == pytest.approx(60.0)
    assert math.isnan(E.composite({"a": np.array([np.nan])}, {"a": 1})[0])


post_rows = st.lists(
    st.tuples(
        st.integers(0, 5),  # account
        st.integers(0, 500),  # days before as_of
        st.one_of(st.none(), st.floats(0, 1e6)),
        st.one_of(st.none(), st.sampled_from([0.0, 1.0, 50.0]), st.floats(0, 1e7)),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(post_rows, st.randoms(use_true_random=False))
def test_scores_stable_under_reordering_and_never_divide_by_zero(rows, rnd):
    accounts = E.AccountTable.build([(i, i % 4, "instagram") for i in range(6)], 4)

    def run(rs):
        facts = E.AccountFacts.empty(accounts.n)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a division by zero would warn
            E.reduce_posts(accounts, _posts(rs) if rs else _posts([]), facts, AS_OF)
            facts.followers[:] = [0, 10, 2_500, 40_000, np.nan, 1_000_000]
            return E.score(accounts, facts, as_of=AS_OF)

    a = run(rows)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    b = run(shuffled)
    for name in ("reach", "resonance", "authenticity", "activity", "composite"):
        x, y = getattr(a, name), getattr(b, name)
        assert np.allclose(x, y, equal_nan=True, rtol=1e-9, atol=1e-9), name
        ok = x[~np.isnan(x)]
        assert np.all((ok >= 0) & (ok <= 100)), name


def test_empty_inputs():
    accounts = E.AccountTable.build([], 0)
    facts = E.AccountFacts.empty(0)
    E.reduce_posts(accounts, _posts([]), facts, AS_OF)
    E.reduce_followers(accounts, _daily([]), facts)
    s = E.score(accounts, facts, as_of=AS_OF)
    assert s.composite.shape == (0,)


def test_parallel_reduction_equals_the_single_pass():
    rng = np.random.default_rng(11)
    n, rows = 3000, 200_000
    accounts = E.AccountTable.build([(10 + 2 * i, i % 700, "instagram") for i in range(n)], 700)
    acc = np.sort(rng.choice(accounts.account_id, rows))
    posts = E.PostColumns(
        acc,
        AS_OF - rng.integers(0, 400 * DAY, rows),
        rng.integers(0, 500, rows).astype(float),
        rng.integers(0, 30_000, rows).astype(float),
    )
    ids = np.repeat(accounts.account_id, 30)
    days = np.tile(np.arange(AS_OF_DAY - 29, AS_OF_DAY + 1), n)
    vals = rng.integers(1000, 50_000, n * 30).astype(float)
    daily = E.DailyColumns(ids, days, vals)
    one = E.AccountFacts.empty(n)
    E.reduce_posts(accounts, posts, one, AS_OF)
    E.reduce_followers(accounts, daily, one)
    two = E.AccountFacts.empty(n)
    E.reduce_all(accounts, posts, daily, two, AS_OF, workers=2)
    for name in one.__dataclass_fields__:
        a, b = getattr(one, name), getattr(two, name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
