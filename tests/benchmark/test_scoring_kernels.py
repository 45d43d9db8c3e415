"""The compiled reductions against plain Python, and the streamed reduction against the
whole-array one.

The oracle below computes each account's figures the slow, obvious way from the
definitions in ``engine``'s docstring; the kernels must agree with it on any input,
including posts of unknown accounts, missing engagements, zero followers, gaps and NaN in
the follower series.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.benchmark.scoring import engine as E
from services.benchmark.scoring import explain
from shared.schemas.ingest_columns import FrameReader, decode_frame, encode_chunk

DAY = 86_400
AS_OF = 1_750_000_000
AS_OF_DAY = AS_OF // DAY
TABLE = (3, 5, 8, 13)  # ingest ids known to the directory; others are skipped

post_rows = st.lists(
    st.tuples(
        st.sampled_from((1, 3, 5, 8, 13, 21)),  # 1 and 21: unknown accounts
        st.integers(-2, 400),  # days before as_of (negative: after as_of)
        st.one_of(st.none(), st.floats(0, 1e6)),
        st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 50.0]), st.floats(0, 1e7)),
    ),
    max_size=80,
)


def _table() -> E.AccountTable:
    return E.AccountTable.build([(a, i, "instagram") for i, a in enumerate(TABLE)], len(TABLE))


def _oracle_posts(rows):
    out = {}
    for a in TABLE:
        mine = [r for r in rows if r[0] == a and AS_OF - 365 * DAY < AS_OF - r[1] * DAY <= AS_OF]
        rates = [e / f for _, _, e, f in mine if e is not None and f is not None and f >= 1]
        mean = statistics.fmean(rates) if rates else math.nan
        cv = math.nan
        if len(rates) >= E.ER_UNIFORM_MIN_POSTS and mean > 0:
            var = max(sum(x * x for x in rates) / len(rates) - mean * mean, 0.0)
            cv = math.sqrt(var) / mean
        out[a] = {
            "posts_window": len(mine),
            "posts_recent": sum(1 for r in mine if r[1] * DAY < E.ACTIVITY_DAYS * DAY),
            "last_post": max((AS_OF - r[1] * DAY for r in mine), default=math.nan),
            "er_median": statistics.median(rates) if rates else math.nan,
            "er_posts": len(rates),
            "er_cv": cv,
        }
    return out


def _posts(rows, order=None):
    rows = sorted(rows, key=lambda r: r[0]) if order is None else rows
    return E.PostColumns(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([AS_OF - r[1] * DAY for r in rows], dtype=np.int64),
        np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=float),
        np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=float),
    )


def _same(x: float, y: float) -> bool:
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)


@settings(max_examples=150, deadline=None)
@given(post_rows, st.booleans())
def test_posts_kernel_agrees_with_plain_python(rows, grouped):
    table = _table()
    facts = E.AccountFacts.empty(table.n)
    # Grouped rows take the one-pass path; shuffled ones are sorted first.
    E.reduce_posts(table, _posts(rows, order=None if grouped else "as given"), facts, AS_OF)
    want = _oracle_posts(rows)
    for i, a in enumerate(TABLE):
        for name, value in want[a].items():
            got = float(getattr(facts, name)[i])
            assert _same(got, float(value)), (a, name, got, value)
        assert bool(facts.has_posts[i]) == (want[a]["posts_window"] > 0)


daily_rows = st.lists(
    st.tuples(
        st.sampled_from((1, 3, 5, 8)),
        st.integers(0, 40),  # day offset (duplicates and gaps happen)
        st.one_of(
            st.just(math.nan), st.floats(0, 5_000), st.sampled_from([1_000.0, 1_500.0, 9_000.0])
        ),
    ),
    max_size=120,
)


def _oracle_followers(rows):
    out = {}
    for a in TABLE:
        series = sorted(
            ((d, v) for acc, d, v in rows if acc == a and not math.isnan(v)),
            key=lambda x: x[0],
        )
        latest = series[-1][1] if series else math.nan
        pairs = [(p[1], c[1] - p[1]) for p, c in itertools.pairwise(series) if c[0] - p[0] == 1]
        spikes, biggest = -1, math.nan
        if len(pairs) >= E.SPIKE_MIN_DAYS:
            mean_abs = sum(abs(g) for _, g in pairs) / len(pairs)
            hits = [
                g
                for prev, g in pairs
                if g >= E.SPIKE_MIN_GAIN
                and g > E.SPIKE_MIN_SHARE * prev
                and g > E.SPIKE_MEAN_FACTOR * mean_abs
            ]
            spikes, biggest = len(hits), max(hits, default=math.nan)
        out[a] = {"followers": latest, "spikes": spikes, "max_spike_gain": biggest}
    return out


@settings(max_examples=150, deadline=None)
@given(daily_rows)
def test_followers_kernel_agrees_with_plain_python(rows):
    # Sorting by (account, day) is stable: equal days keep their order, as in the oracle.
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    table = _table()
    facts = E.AccountFacts.empty(table.n)
    daily = E.DailyColumns(
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([AS_OF_DAY - 40 + r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=float),
    )
    E.reduce_followers(table, daily, facts)
    want = _oracle_followers(rows)
    for i, a in enumerate(TABLE):
        for name, value in want[a].items():
            got = float(getattr(facts, name)[i])
            assert _same(got, float(value)), (a, name, got, value)


def test_a_long_flat_series_with_one_jump_is_one_spike():
    table = _table()
    facts = E.AccountFacts.empty(table.n)
    values = [1_000.0] * 20 + [1_500.0]  # +500 after 19 flat days
    daily = E.DailyColumns(
        np.full(21, 3, dtype=np.int64), np.arange(AS_OF_DAY - 20, AS_OF_DAY + 1), np.array(values)
    )
    E.reduce_followers(table, daily, facts)
    assert facts.spikes[0] == 1 and facts.max_spike_gain[0] == 500.0
    assert facts.followers[0] == 1_500.0
    assert facts.spikes[1] == -1 and math.isnan(facts.followers[1])  # no series: not assessed


# --------------------------------------------------------------------------- streaming


def _data(seed: int, n_acc: int = 400, n_posts: int = 30_000):
    rng = np.random.default_rng(seed)
    table = E.AccountTable.build(
        [(10 + 3 * i, i % 150, E.NETWORKS[i % 5]) for i in range(n_acc)], 150
    )
    # Some ids in the stream are not the directory's (registered elsewhere).
    ids = np.sort(rng.choice(np.append(table.account_id, [1, 2, 9_999]), n_posts))
    posts = E.PostColumns(
        ids,
        AS_OF - rng.integers(-DAY, 400 * DAY, n_posts),
        np.where(rng.random(n_posts) < 0.05, np.nan, rng.integers(0, 900, n_posts).astype(float)),
        rng.choice([0.0, 5_000.0, 40_000.0, 300_000.0], n_posts),
    )
    days = 30
    d_ids = np.repeat(table.account_id, days)
    d_day = np.tile(np.arange(AS_OF_DAY - days + 1, AS_OF_DAY + 1), n_acc)
    d_val = np.cumsum(rng.integers(0, 40, n_acc * days)).astype(float)
    d_val[rng.random(n_acc * days) < 0.03] = np.nan
    d_val[rng.integers(0, n_acc * days, 20)] += 50_000  # some spikes
    return table, posts, E.DailyColumns(d_ids, d_day, d_val)


def _frames(columns: dict[str, np.ndarray], cuts: list[int], piece: int):
    """The columns cut at ``cuts``, sent as binary frames, received in ``piece``-byte reads:
    each chunk comes back as read-only views, as the HTTP client gives them."""
    bounds = [0, *sorted(set(cuts)), len(next(iter(columns.values())))]
    stream = b"".join(
        encode_chunk({k: v[a:b] for k, v in columns.items()}, encoding="binary")
        for a, b in itertools.pairwise(bounds)
    )
    reader = FrameReader()
    for i in range(0, len(stream), piece):
        for frame in reader.feed(stream[i : i + piece]):
            yield decode_frame(frame)[1]
    reader.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_streamed_reduction_equals_the_whole_array_one(seed):
    table, posts, daily = _data(seed)
    rng = np.random.default_rng(seed)
    whole = E.AccountFacts.empty(table.n)
    E.reduce_all(table, posts, daily, whole, AS_OF)
    following = E.DailyColumns(daily.account_id, daily.day, np.round(daily.value / 7))
    whole.following[:] = E.reduce_latest(table, following)
    n_posts, n_days = posts.account_id.shape[0], daily.account_id.shape[0]
    # Cuts anywhere: inside an account's run, twice at the same place (an empty chunk),
    # chunks shorter than a run.
    post_cuts = [*rng.integers(0, n_posts, 40).tolist(), 5, 5, 6, 7]
    day_cuts = rng.integers(0, n_days, 25).tolist()
    streamed = E.AccountFacts.empty(table.n)
    with E.StreamReduction(table, streamed, AS_OF) as reduction:
        cols = {k: getattr(posts, k) for k in E.POST_STREAM}
        for chunk in _frames(cols, post_cuts, piece=4096):
            assert not chunk["account_id"].flags.writeable
            reduction.posts(chunk)
        dcols = {k: getattr(daily, k) for k in E.DAILY_STREAM}
        for chunk in _frames(dcols, day_cuts, piece=1500):
            reduction.followers(chunk)
        fcols = {k: getattr(following, k) for k in E.DAILY_STREAM}
        for chunk in _frames(fcols, day_cuts[:5], piece=2048):
            reduction.following(chunk)
        reduction.finish()
    for name in whole.__dataclass_fields__:
        a, b = getattr(whole, name), getattr(streamed, name)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
    assert int(np.sum(streamed.spikes > 0)) > 0  # the spikes were found, not skipped
    assert int(np.sum(~np.isnan(streamed.following))) > 0


def _chunk(ids, days=None):
    ids = np.array(ids, dtype=np.int64)
    if days is None:
        return {
            "account_id": ids,
            "published_at": np.full(ids.shape[0], AS_OF),
            "engagements": np.ones(ids.shape[0]),
            "followers_at_post": np.full(ids.shape[0], 100.0),
        }
    return {"account_id": ids, "day": np.array(days), "value": np.ones(ids.shape[0])}


@pytest.mark.parametrize(
    "chunks",
    [
        [[3, 5, 8], [5, 13]],  # account 5 comes back in a later chunk
        [[3, 8, 5, 13]],  # out of order inside a chunk
        [[3, 3], [3, 5], [3]],  # a run interrupted, then resumed
    ],
)
def test_a_stream_out_of_order_is_refused_not_mis_scored(chunks):
    table = _table()
    with (
        pytest.raises(ValueError, match="not ordered by account"),
        E.StreamReduction(table, E.AccountFacts.empty(table.n), AS_OF) as reduction,
    ):
        for ids in chunks:
            reduction.posts(_chunk(ids))
        reduction.finish()


def test_a_daily_series_out_of_day_order_is_refused():
    table = _table()
    with (
        pytest.raises(ValueError, match="account and day"),
        E.StreamReduction(table, E.AccountFacts.empty(table.n), AS_OF) as reduction,
    ):
        reduction.followers(_chunk([3, 3, 5], days=[AS_OF_DAY, AS_OF_DAY - 1, AS_OF_DAY]))
        reduction.finish()


def test_a_metric_ingest_did_not_send_is_no_data():
    table = _table()
    facts = E.AccountFacts.empty(table.n)
    chunk = _chunk([3, 3, 5])
    del chunk["engagements"]
    with E.StreamReduction(table, facts, AS_OF) as reduction:
        reduction.posts(chunk)
        reduction.finish()
    assert facts.posts_window[0] == 2 and facts.er_posts[0] == 0
    assert math.isnan(facts.er_median[0])


# --------------------------------------------------------------------------- explanations


def test_compact_json_is_the_documented_document():
    table, posts, daily = _data(4, n_acc=300)
    # Relays with one account, several, and none (relay 149 has none: ids stop at 148).
    table = E.AccountTable(table.account_id, table.relay % 149, table.network, 150)
    facts = E.AccountFacts.empty(table.n)
    E.reduce_all(table, posts, daily, facts, AS_OF)
    s = E.score(table, facts, as_of=AS_OF)
    stored = explain.compact_all(s)
    assert len(stored) == 150
    rows_of: list[list[int]] = [[] for _ in range(150)]
    for row, rel in enumerate(table.relay.tolist()):
        rows_of[rel].append(row)
    assert rows_of[149] == [] and len(rows_of[0]) > 1
    for r in (0, 1, 77, 149):
        doc = json.loads(stored[r])
        assert doc["v"] == explain.COMPACT_VERSION
        assert len(doc["accounts"]) == len(rows_of[r])
        assert all(len(a) == len(explain.ACCOUNT_FIELDS) for a in doc["accounts"])
        # NaN is stored as null, every other number exactly.
        assert explain.expand(doc, tier_scheme=s.tier_scheme, weights=s.weights) == (
            explain.relay_explanation(s, r, rows_of[r])
        )


def test_one_account_per_relay_takes_the_same_document():
    table, posts, daily = _data(5, n_acc=150)
    table = E.AccountTable(table.account_id, np.arange(150), table.network, 150)
    facts = E.AccountFacts.empty(table.n)
    E.reduce_all(table, posts, daily, facts, AS_OF)
    s = E.score(table, facts, as_of=AS_OF)
    stored = explain.compact_all(s)
    for r in (0, 42, 149):
        doc = json.loads(stored[r])
        assert explain.expand(doc, tier_scheme=s.tier_scheme, weights=s.weights) == (
            explain.relay_explanation(s, r, [r])
        )
