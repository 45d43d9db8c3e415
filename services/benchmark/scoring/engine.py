"""The scoring engine: from ingest's columns to each relay's score components.

The data path is built for the directory's scale (100,000 relays, 5,000,000 posts): ingest
streams posts and daily metrics as columns (:mod:`shared.schemas.ingest_columns`),
compiled kernels (:mod:`.kernels`) reduce each account's run of rows in one pass, and
NumPy combines accounts into relays (no Python loop over posts or accounts). Explanations
(:mod:`.explain`) are built afterwards from the same arrays, so every figure shown is a
figure computed here.

Definitions (each component is 0–100; NaN means "not scored" and is never read as 0):

* **engagement rate** of a post = engagements ÷ followers when posted; an account's rate
  is the *median over its posts* of the window (12 months).
* **reach** = ``100 · (log10(followers) − 2) / 5`` clipped to [0, 100]: 100 followers → 0,
  1K → 20, 10K → 40, 100K → 60, 1M → 80, 10M → 100 (summed over the relay's accounts).
* **resonance** of an account = ``50 + 50 · log2(rate ÷ benchmark)`` clipped: at the
  benchmark → 50, twice → 100, half → 0. The benchmark is the published figure for the
  account's tier and network when one exists, else the directory's own median for that
  tier × network (when it has at least ``MIN_COHORT`` accounts). No resonance under 2,000
  followers or 10 posts in 12 months (Traackr's rule). A relay's resonance is the
  follower-weighted mean over its scored accounts.
* **authenticity** starts at 100 and loses points for each warning sign, per account;
  a relay's is the lowest of its accounts' (one bought audience is enough to worry).
* **activity** = ``60 · min(1, posts per week ÷ 3) + 40 · recency`` with recency 1 when the
  last post is at most 7 days old, falling linearly to 0 at 180 days.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from types import TracebackType

import numpy as np

from services.benchmark import reference
from services.benchmark.stats import (
    FloatArray,
    IntArray,
    group_percentile_ranks,
    segment_medians,
)
from shared.schemas.ingest import SOCIAL_NETWORKS

NETWORKS: tuple[str, ...] = tuple(n.value for n in SOCIAL_NETWORKS)
TIERS: tuple[str, ...] = reference.TIER_ORDER
DAY = 86_400

WINDOW_DAYS = 365
ACTIVITY_DAYS = 90
MIN_COHORT = 20  # accounts needed before a tier × network median serves as a benchmark
RESONANCE_MIN_FOLLOWERS, _ = reference.screening("resonance_min_followers")
RESONANCE_MIN_POSTS, _ = reference.screening("resonance_min_posts_12_months")
MASS_FOLLOWING, _ = reference.screening("mass_follower_following")

# Authenticity rules: (points lost, threshold). Stated on every explanation.
PENALTY_MASS_FOLLOWER = 30.0
PENALTY_FOLLOWING_RATIO = 20.0  # following ≥ followers
PENALTY_PER_SPIKE = 15.0
MAX_SPIKE_PENALTY = 30.0
SPIKE_MIN_GAIN = 100.0
SPIKE_MIN_SHARE = 0.05  # of the previous day's followers
SPIKE_MEAN_FACTOR = 10.0  # × the account's mean absolute daily change
SPIKE_MIN_DAYS = 14  # consecutive-day pairs needed to look for spikes
PENALTY_ER_HIGH = 20.0
ER_HIGH_FACTOR = 4.0  # × the tier × network benchmark
PENALTY_ER_UNIFORM = 10.0
ER_UNIFORM_CV = 0.05  # coefficient of variation under which engagement looks scripted
ER_UNIFORM_MIN_POSTS = 10

DEFAULT_WEIGHTS: dict[str, float] = {
    "reach": 0.2,
    "resonance": 0.3,
    "relevance": 0.25,
    "authenticity": 0.15,
    "activity": 0.1,
}
COMPONENTS = tuple(DEFAULT_WEIGHTS)


# --------------------------------------------------------------------------- inputs


@dataclass
class AccountTable:
    """The relays' accounts known to ingest: one row per account, ids ascending."""

    account_id: IntArray
    relay: IntArray  # index of the relay in [0, n_relays)
    network: IntArray  # index in NETWORKS
    n_relays: int

    @classmethod
    def build(cls, rows: Sequence[tuple[int, int, str]], n_relays: int) -> AccountTable:
        """``rows`` are ``(ingest account id, relay index, network)``."""
        if not rows:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty.copy(), empty.copy(), n_relays)
        code = {name: i for i, name in enumerate(NETWORKS)}
        n = len(rows)
        return cls.from_arrays(
            np.fromiter(map(itemgetter(0), rows), dtype=np.int64, count=n),
            np.fromiter(map(itemgetter(1), rows), dtype=np.int64, count=n),
            np.fromiter((code[r[2]] for r in rows), dtype=np.int64, count=n),
            n_relays,
        )

    @classmethod
    def from_arrays(
        cls, ids: IntArray, relay: IntArray, network: IntArray, n_relays: int
    ) -> AccountTable:
        """Ingest account ids, relay indexes and network indexes (in NETWORKS), any order."""
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        if ids.shape[0] > 1 and np.any(ids[1:] == ids[:-1]):
            raise ValueError("an ingest account belongs to two relays")
        return cls(ids, relay[order], network[order], n_relays)

    @property
    def n(self) -> int:
        return int(self.account_id.shape[0])


@dataclass
class PostColumns:
    account_id: IntArray
    published_at: IntArray  # epoch seconds
    engagements: FloatArray  # NaN = no data
    followers_at_post: FloatArray  # NaN = no data


@dataclass
class DailyColumns:
    account_id: IntArray
    day: IntArray  # days since 1970-01-01
    value: FloatArray

    @classmethod
    def empty(cls) -> DailyColumns:
        e = np.zeros(0, dtype=np.int64)
        return cls(e, e.copy(), np.zeros(0))


def _locate(table_ids: IntArray, ids: IntArray) -> tuple[IntArray, np.ndarray]:
    """Index of each id in ``table_ids`` and whether it is there at all."""
    n = table_ids.shape[0]
    if ids.shape[0] == 0 or n == 0:
        return np.zeros(ids.shape[0], dtype=np.int64), np.zeros(ids.shape[0], dtype=bool)
    if ids.shape[0] > 1 and bool(np.all(ids[1:] >= ids[:-1])):
        # Ingest streams rows grouped by account: look each run up (and check it) once.
        heads = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
        lens = np.diff(np.append(heads, ids.shape[0]))
        pos = np.searchsorted(table_ids, ids[heads])
        clipped_h = np.minimum(pos, n - 1)
        ok = (pos < n) & (table_ids[clipped_h] == ids[heads])
        return np.repeat(clipped_h, lens), np.repeat(ok, lens)
    idx = np.searchsorted(table_ids, ids)
    clipped = np.minimum(idx, n - 1)
    return clipped, (idx < n) & (table_ids[clipped] == ids)


# --------------------------------------------------------------------------- per account


@dataclass
class AccountFacts:
    """What the engine measured for each account (arrays aligned with AccountTable)."""

    followers: FloatArray
    following: FloatArray
    posts_window: IntArray
    posts_recent: IntArray
    last_post: FloatArray  # epoch seconds, NaN = no post in the window
    er_median: FloatArray
    er_posts: IntArray
    er_cv: FloatArray
    spikes: IntArray  # -1: not assessed (too few consecutive days)
    max_spike_gain: FloatArray
    has_posts: np.ndarray  # any post row streamed for this account

    @classmethod
    def empty(cls, n: int) -> AccountFacts:
        nan = np.full(n, np.nan)
        zero = np.zeros(n, dtype=np.int64)
        return cls(
            followers=nan.copy(),
            following=nan.copy(),
            posts_window=zero.copy(),
            posts_recent=zero.copy(),
            last_post=nan.copy(),
            er_median=nan.copy(),
            er_posts=zero.copy(),
            er_cv=nan.copy(),
            spikes=np.full(n, -1, dtype=np.int64),
            max_spike_gain=nan.copy(),
            has_posts=np.zeros(n, dtype=bool),
        )


def _clear_post_facts(facts: AccountFacts) -> None:
    facts.posts_window[:] = 0
    facts.posts_recent[:] = 0
    facts.er_posts[:] = 0
    for name in ("last_post", "er_median", "er_cv"):
        getattr(facts, name)[:] = np.nan


def _post_kernel(
    table_ids: IntArray, cols: Sequence[np.ndarray], f: AccountFacts, as_of: int
) -> bool:
    """The posts kernel over ``cols`` (:data:`POST_STREAM`); False if not grouped by account."""
    bounds = (as_of - WINDOW_DAYS * DAY, as_of, as_of - ACTIVITY_DAYS * DAY)
    out = (f.posts_window, f.posts_recent, f.last_post, f.er_median, f.er_posts, f.er_cv)
    from services.benchmark.scoring import kernels  # Numba loads on first use, not at start

    return kernels.posts(table_ids, *cols, *bounds, ER_UNIFORM_MIN_POSTS, *out, f.has_posts)


def reduce_posts(
    accounts: AccountTable, posts: PostColumns, facts: AccountFacts, as_of: int
) -> None:
    """Posts of the window ``(as_of − 365 days, as_of]`` → counts, recency, rates.

    Every account of ``accounts`` gets its figures; one without posts keeps "no data".
    """
    _clear_post_facts(facts)
    cols = [posts.account_id, posts.published_at, posts.engagements, posts.followers_at_post]
    if not _post_kernel(accounts.account_id, cols, facts, as_of):
        order = np.argsort(posts.account_id, kind="stable")
        _post_kernel(accounts.account_id, [c[order] for c in cols], facts, as_of)


def _daily_rows(
    accounts: AccountTable, daily: DailyColumns
) -> tuple[IntArray, IntArray, FloatArray]:
    """The rows of known accounts with a value, ordered by (account, day)."""
    idx, valid = _locate(accounts.account_id, daily.account_id)
    valid &= ~np.isnan(daily.value)
    if bool(valid.all()):
        i, day, val = idx, daily.day, daily.value
    else:
        i, day, val = idx[valid], daily.day[valid], daily.value[valid]
    if i.shape[0] > 1:
        key = i * (1 << 24) + (day - day.min())
        if not bool(np.all(key[1:] >= key[:-1])):
            order = np.argsort(key, kind="stable")
            i, day, val = i[order], day[order], val[order]
    return i, day, val


def _set_latest(out: FloatArray, accounts: AccountTable, daily: DailyColumns) -> None:
    """``out[account]`` = the account's latest value of ``daily``, for the accounts in it."""
    i, _, val = _daily_rows(accounts, daily)
    if i.shape[0]:
        last = np.flatnonzero(np.concatenate((i[1:] != i[:-1], [True])))
        out[i[last]] = val[last]


def reduce_latest(accounts: AccountTable, daily: DailyColumns) -> FloatArray:
    """The latest value of a daily metric per account (NaN where none)."""
    out = np.full(accounts.n, np.nan)
    _set_latest(out, accounts, daily)
    return out


def _clear_follower_facts(facts: AccountFacts) -> None:
    facts.followers[:] = np.nan
    facts.spikes[:] = -1
    facts.max_spike_gain[:] = np.nan


def _follower_kernel(table_ids: IntArray, cols: Sequence[np.ndarray], f: AccountFacts) -> bool:
    """The followers kernel over ``cols`` (:data:`DAILY_STREAM`); False if not ordered by
    (account, day)."""
    rules = (SPIKE_MIN_DAYS, SPIKE_MIN_GAIN, SPIKE_MIN_SHARE, SPIKE_MEAN_FACTOR)
    from services.benchmark.scoring import kernels

    return kernels.followers(table_ids, *cols, *rules, f.followers, f.spikes, f.max_spike_gain)


def reduce_followers(accounts: AccountTable, daily: DailyColumns, facts: AccountFacts) -> None:
    """Latest followers and follower-growth spikes from the daily ``followers`` series."""
    _clear_follower_facts(facts)
    cols = [daily.account_id, daily.day, daily.value]
    if not _follower_kernel(accounts.account_id, cols, facts):
        order = np.lexsort((daily.day, daily.account_id))
        _follower_kernel(accounts.account_id, [c[order] for c in cols], facts)


def _parts(accounts: AccountTable, ids: IntArray, workers: int) -> list[tuple[slice, slice]]:
    """Account ranges and their rows, when rows are grouped by account (ingest's order)."""
    n = accounts.n
    if workers < 2 or n < 2 * workers or ids.shape[0] < 100_000:
        return [(slice(0, n), slice(0, ids.shape[0]))]
    if not bool(np.all(ids[1:] >= ids[:-1])):
        return [(slice(0, n), slice(0, ids.shape[0]))]
    bounds = [n * k // workers for k in range(workers + 1)]
    out = []
    for a0, a1 in itertools.pairwise(bounds):
        r0 = int(np.searchsorted(ids, accounts.account_id[a0], "left")) if a0 else 0
        r1 = int(np.searchsorted(ids, accounts.account_id[a1], "left")) if a1 < n else ids.shape[0]
        out.append((slice(a0, a1), slice(r0, r1)))
    return out


def _sub(
    accounts: AccountTable, facts: AccountFacts, a: slice
) -> tuple[AccountTable, AccountFacts]:
    """Views of one account range: writes to the sub-facts land in ``facts``."""
    sub_acc = AccountTable(
        accounts.account_id[a], accounts.relay[a], accounts.network[a], accounts.n_relays
    )
    sub_facts = AccountFacts(**{k: getattr(facts, k)[a] for k in facts.__dataclass_fields__})
    return sub_acc, sub_facts


def reduce_all(
    accounts: AccountTable,
    posts: PostColumns,
    followers: DailyColumns,
    facts: AccountFacts,
    as_of: int,
    workers: int = 2,
) -> None:
    """:func:`reduce_posts` and :func:`reduce_followers` over account ranges in threads.

    The compiled kernels (:mod:`.kernels`) release the GIL, so ranges of accounts (rows
    come grouped by account) are reduced side by side, one per core.
    """
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    jobs: list[Callable[[], None]] = []
    # An empty stream leaves the facts as AccountFacts.empty made them ("no data").
    post_parts = _parts(accounts, posts.account_id, workers) if posts.account_id.size else []
    daily_parts = (
        _parts(accounts, followers.account_id, workers) if followers.account_id.size else []
    )
    for a, r in post_parts:
        sub_acc, sub_facts = _sub(accounts, facts, a)
        sub_posts = PostColumns(
            posts.account_id[r],
            posts.published_at[r],
            posts.engagements[r],
            posts.followers_at_post[r],
        )
        jobs.append(partial(reduce_posts, sub_acc, sub_posts, sub_facts, as_of))
    for a, r in daily_parts:
        sub_acc, sub_facts = _sub(accounts, facts, a)
        sub_daily = DailyColumns(followers.account_id[r], followers.day[r], followers.value[r])
        jobs.append(partial(reduce_followers, sub_acc, sub_daily, sub_facts))
    if workers < 2 or len(jobs) < 2:
        for job in jobs:
            job()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for f in [pool.submit(job) for job in jobs]:
            f.result()


class _Runs:
    """Cuts a stream of column chunks, rows grouped by account, into pieces that each hold
    whole runs of accounts: a chunk's trailing run waits (copied, it is small) for the
    rest of its rows in the next chunk. The other rows stay views on the chunk."""

    def __init__(self, names: Sequence[str], what: str) -> None:
        self.names = tuple(names)
        self.what = what
        self.carry: dict[str, np.ndarray] | None = None
        self.last: int | None = None  # the account id ending the last piece

    def _piece(self, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        acc = cols["account_id"]
        if self.last is not None and int(acc[0]) <= self.last:
            raise ValueError(
                f"ingest's {self.what} are not ordered by account: account {int(acc[0])} "
                f"comes after account {self.last}"
            )
        self.last = int(acc[-1])
        return cols

    def feed(self, chunk: Mapping[str, np.ndarray]) -> list[dict[str, np.ndarray]]:
        acc = chunk["account_id"]
        n = int(acc.shape[0])
        if n == 0:
            return []
        out: list[dict[str, np.ndarray]] = []
        start = 0
        if self.carry is not None:
            carry = self.carry
            a = carry["account_id"][0]
            lead = int(np.searchsorted(acc, a, "right")) if acc[0] == a else 0
            if lead >= n:  # the whole chunk continues the waiting run
                self.carry = {k: np.concatenate((carry[k], chunk[k])) for k in self.names}
                return []
            if lead:
                carry = {k: np.concatenate((carry[k], chunk[k][:lead])) for k in self.names}
            out.append(self._piece(carry))
            self.carry = None
            start = lead
        tail = max(int(np.searchsorted(acc, acc[-1], "left")), start)
        if tail > start:
            out.append(self._piece({k: chunk[k][start:tail] for k in self.names}))
        self.carry = {k: np.array(chunk[k][tail:]) for k in self.names}
        return out

    def flush(self) -> list[dict[str, np.ndarray]]:
        carry, self.carry = self.carry, None
        return [self._piece(carry)] if carry is not None else []


POST_STREAM = ("account_id", "published_at", "engagements", "followers_at_post")
DAILY_STREAM = ("account_id", "day", "value")


class StreamReduction:
    """Reduces ingest's streams chunk by chunk, as they arrive: posts, daily followers and
    daily following (its latest value).

    Each chunk is cut into pieces of whole account runs (:class:`_Runs`) and each piece is
    reduced by the compiled kernels in a worker thread while the caller reads and decodes
    the next chunk (the kernels release the GIL). No chunk is kept once reduced, so memory
    stays at a few chunks whatever the directory's size. The streams must keep ingest's
    order (by account; by day within an account for a daily series): a stream that breaks
    it raises ``ValueError`` rather than give wrong medians or spikes.
    """

    MAX_PENDING = 4

    def __init__(self, accounts: AccountTable, facts: AccountFacts, as_of: int) -> None:
        self.accounts = accounts
        self.facts = facts
        self.as_of = as_of
        _clear_post_facts(facts)
        _clear_follower_facts(facts)
        facts.following[:] = np.nan
        self._posts = _Runs(POST_STREAM, "posts")
        self._followers = _Runs(DAILY_STREAM, "daily followers")
        self._following = _Runs(DAILY_STREAM, "daily following")
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scoring")
        self._pending: deque[Future[None]] = deque()

    def __enter__(self) -> StreamReduction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def posts(self, chunk: Mapping[str, np.ndarray]) -> None:
        n = len(chunk["account_id"])
        # A metric ingest did not send is "no data" (NaN), never zero.
        chunk = {k: chunk[k] if k in chunk else np.full(n, np.nan) for k in POST_STREAM}
        for piece in self._posts.feed(chunk):
            self._submit(self._reduce_posts, piece)

    def followers(self, chunk: Mapping[str, np.ndarray]) -> None:
        for piece in self._followers.feed(chunk):
            self._submit(self._reduce_followers, piece)

    def following(self, chunk: Mapping[str, np.ndarray]) -> None:
        for piece in self._following.feed(chunk):
            self._submit(self._reduce_following, piece)

    def finish(self) -> AccountFacts:
        for piece in self._posts.flush():
            self._submit(self._reduce_posts, piece)
        for piece in self._followers.flush():
            self._submit(self._reduce_followers, piece)
        for piece in self._following.flush():
            self._submit(self._reduce_following, piece)
        while self._pending:
            self._pending.popleft().result()
        return self.facts

    def _submit(
        self, fn: Callable[[dict[str, np.ndarray]], None], piece: dict[str, np.ndarray]
    ) -> None:
        while len(self._pending) >= self.MAX_PENDING:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(fn, piece))

    def _reduce_posts(self, p: dict[str, np.ndarray]) -> None:
        cols = [p[k] for k in POST_STREAM]
        if not _post_kernel(self.accounts.account_id, cols, self.facts, self.as_of):
            raise ValueError("ingest's posts are not ordered by account")

    def _reduce_followers(self, p: dict[str, np.ndarray]) -> None:
        cols = [p[k] for k in DAILY_STREAM]
        if not _follower_kernel(self.accounts.account_id, cols, self.facts):
            raise ValueError("ingest's daily followers are not ordered by account and day")

    def _reduce_following(self, p: dict[str, np.ndarray]) -> None:
        # The piece holds its accounts' whole series: their latest value is final.
        daily = DailyColumns(*(p[k] for k in DAILY_STREAM))
        _set_latest(self.facts.following, self.accounts, daily)


# --------------------------------------------------------------------------- scoring


@dataclass
class Scores:
    """Per-account and per-relay results of one scoring run."""

    accounts: AccountTable
    facts: AccountFacts
    tier_scheme: str
    # per account
    acct_tier: IntArray  # index in TIERS, -1 none
    acct_benchmark: FloatArray
    acct_benchmark_kind: IntArray  # 0 none, 1 published, 2 directory median
    acct_cohort_size: IntArray
    acct_percentile: FloatArray  # rate's percentile rank within tier × network
    acct_resonance: FloatArray
    acct_authenticity: FloatArray
    acct_flags: IntArray  # bit field of authenticity warnings (FLAG_*)
    # per relay
    followers: FloatArray
    tier: IntArray
    reach: FloatArray
    resonance: FloatArray
    authenticity: FloatArray
    activity: FloatArray
    posts_per_week: FloatArray
    last_post: FloatArray
    composite: FloatArray
    weights: dict[str, float] = field(default_factory=dict)


FLAG_MASS_FOLLOWER = 1
FLAG_FOLLOWING_RATIO = 2
FLAG_SPIKES = 4
FLAG_ER_HIGH = 8
FLAG_ER_UNIFORM = 16
# Checks that could not be run for lack of data.
FLAG_NO_FOLLOWING = 256
FLAG_NO_SERIES = 512
FLAG_NO_RATE = 1024


def reach_score(followers: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):  # results are masked below
        s = 100.0 * (np.log10(np.maximum(followers, 1.0)) - 2.0) / 5.0
    return np.where(np.isnan(followers), np.nan, np.clip(s, 0.0, 100.0))


def activity_score(posts_per_week: FloatArray, days_since_last: FloatArray) -> FloatArray:
    freq = np.minimum(1.0, np.nan_to_num(posts_per_week, nan=0.0) / 3.0)
    recency = np.where(
        np.isnan(days_since_last),
        0.0,
        np.clip(1.0 - np.maximum(days_since_last - 7.0, 0.0) / 173.0, 0.0, 1.0),
    )
    return 60.0 * freq + 40.0 * recency


def _tiers(followers: FloatArray, scheme: reference.TierScheme) -> IntArray:
    out = np.full(followers.shape[0], -1, dtype=np.int64)
    for t in scheme.tiers:
        hi = np.inf if t.max is None else float(t.max)
        out[(followers >= t.min) & (followers < hi)] = TIERS.index(t.tier)
    return out


def composite(parts: dict[str, FloatArray], weights: dict[str, float]) -> FloatArray:
    """Weighted mean over the components present (weights renormalised per relay)."""
    num: FloatArray | None = None
    den: FloatArray | None = None
    for name, values in parts.items():
        w = float(weights.get(name, 0.0))
        if w <= 0:
            continue
        present = ~np.isnan(values)
        contrib = np.where(present, values * w, 0.0)
        wsum = np.where(present, w, 0.0)
        num = contrib if num is None else num + contrib
        den = wsum if den is None else den + wsum
    if num is None or den is None:
        n = next(iter(parts.values())).shape[0] if parts else 0
        return np.full(n, np.nan)
    with np.errstate(all="ignore"):  # results are masked below
        return np.where(den > 0, num / den, np.nan)


def score(
    accounts: AccountTable,
    facts: AccountFacts,
    *,
    as_of: int,
    tier_scheme: str = "hypeauditor",
    weights: dict[str, float] | None = None,
) -> Scores:
    """Every component for every account and relay (see the module's definitions)."""
    weights = dict(weights or DEFAULT_WEIGHTS)
    scheme = reference.tier_scheme(tier_scheme)
    n, r = accounts.n, accounts.n_relays
    f = facts

    tier = _tiers(f.followers, scheme)
    eligible = (
        (f.followers >= RESONANCE_MIN_FOLLOWERS)
        & (f.posts_window >= RESONANCE_MIN_POSTS)
        & ~np.isnan(f.er_median)
        & (tier >= 0)
    )
    cohort = accounts.network * len(TIERS) + tier
    cohort_key = np.where(eligible, cohort, -1)
    rate = np.where(eligible, f.er_median, np.nan)
    percentile = group_percentile_ranks(rate, np.where(eligible, cohort, 0))
    n_cohorts = len(NETWORKS) * len(TIERS)
    cohort_size = np.bincount(cohort_key[eligible], minlength=n_cohorts)
    cohort_median = segment_medians(rate, np.where(eligible, cohort, 0), n_cohorts)
    published = np.full(n_cohorts, np.nan)
    for ni, net in enumerate(NETWORKS):
        for ti, t in enumerate(TIERS):
            fig = reference.tier_engagement_benchmark(tier_scheme, t, net)
            if fig is not None:
                published[ni * len(TIERS) + ti] = fig.value
    cohort_bench = np.where(
        ~np.isnan(published),
        published,
        np.where(cohort_size >= MIN_COHORT, cohort_median, np.nan),
    )
    bench_kind_c = np.where(
        ~np.isnan(published), 1, np.where(~np.isnan(cohort_bench), 2, 0)
    ).astype(np.int64)
    safe_c = np.clip(cohort, 0, n_cohorts - 1)
    acct_bench = np.where(tier >= 0, cohort_bench[safe_c], np.nan)
    acct_bench_kind = np.where(tier >= 0, bench_kind_c[safe_c], 0)
    acct_cohort_size = np.where(tier >= 0, cohort_size[safe_c], 0)
    with np.errstate(all="ignore"):  # results are masked below
        rel = rate / acct_bench
        res = np.where(rel > 0, 50.0 + 50.0 * np.log2(rel), 0.0)
    acct_res = np.where(eligible & (acct_bench > 0), np.clip(res, 0.0, 100.0), np.nan)
    acct_percentile = np.where(eligible, percentile, np.nan)

    # Authenticity, per account.
    flags = np.zeros(n, dtype=np.int64)
    penalty = np.zeros(n)
    known_following = ~np.isnan(f.following)
    mass = known_following & (f.following > MASS_FOLLOWING)
    flags |= np.where(mass, FLAG_MASS_FOLLOWER, 0)
    penalty += np.where(mass, PENALTY_MASS_FOLLOWER, 0.0)
    ratio_bad = known_following & (f.followers > 0) & (f.following >= f.followers)
    flags |= np.where(ratio_bad, FLAG_FOLLOWING_RATIO, 0)
    penalty += np.where(ratio_bad, PENALTY_FOLLOWING_RATIO, 0.0)
    flags |= np.where(known_following, 0, FLAG_NO_FOLLOWING)
    spiky = f.spikes > 0
    flags |= np.where(spiky, FLAG_SPIKES, 0)
    penalty += np.where(
        spiky, np.minimum(MAX_SPIKE_PENALTY, PENALTY_PER_SPIKE * np.maximum(f.spikes, 0)), 0.0
    )
    flags |= np.where(f.spikes < 0, FLAG_NO_SERIES, 0)
    er_high = (
        ~np.isnan(f.er_median) & (acct_bench > 0) & (f.er_median > ER_HIGH_FACTOR * acct_bench)
    )
    flags |= np.where(er_high, FLAG_ER_HIGH, 0)
    penalty += np.where(er_high, PENALTY_ER_HIGH, 0.0)
    uniform = ~np.isnan(f.er_cv) & (f.er_cv < ER_UNIFORM_CV)
    flags |= np.where(uniform, FLAG_ER_UNIFORM, 0)
    penalty += np.where(uniform, PENALTY_ER_UNIFORM, 0.0)
    flags |= np.where(np.isnan(f.er_median), FLAG_NO_RATE, 0)
    any_check = known_following | (f.spikes >= 0) | ~np.isnan(f.er_median)
    acct_auth = np.where(any_check, np.clip(100.0 - penalty, 0.0, 100.0), np.nan)

    # Relays.
    rel_idx = accounts.relay
    fol0 = np.nan_to_num(f.followers, nan=0.0)
    has_fol = np.bincount(rel_idx, weights=(~np.isnan(f.followers)).astype(float), minlength=r)
    followers = np.where(has_fol > 0, np.bincount(rel_idx, weights=fol0, minlength=r), np.nan)
    # The relay's tier is its largest account's.
    best = np.full(r, -1.0)
    np.maximum.at(best, rel_idx, fol0)
    is_best = (fol0 == best[rel_idx]) & ~np.isnan(f.followers)
    relay_tier = np.full(r, -1, dtype=np.int64)
    relay_tier[rel_idx[is_best]] = tier[is_best]

    w = np.where(np.isnan(acct_res), 0.0, np.maximum(fol0, 1.0))
    wsum = np.bincount(rel_idx, weights=w, minlength=r)
    rsum = np.bincount(rel_idx, weights=np.nan_to_num(acct_res) * w, minlength=r)
    with np.errstate(all="ignore"):  # results are masked below
        resonance = np.where(wsum > 0, rsum / wsum, np.nan)

    auth = np.full(r, np.inf)
    np.minimum.at(auth, rel_idx, np.where(np.isnan(acct_auth), np.inf, acct_auth))
    authenticity = np.where(np.isfinite(auth), auth, np.nan)

    observed = np.bincount(
        rel_idx, weights=(f.has_posts | ~np.isnan(f.followers)).astype(float), minlength=r
    )
    recent = np.bincount(rel_idx, weights=f.posts_recent.astype(float), minlength=r)
    ppw = np.where(observed > 0, recent / (ACTIVITY_DAYS / 7.0), np.nan)
    last = np.full(r, -np.inf)
    np.maximum.at(last, rel_idx, np.nan_to_num(f.last_post, nan=-np.inf))
    last_post = np.where(np.isfinite(last), last, np.nan)
    days = (as_of - last_post) / DAY
    activity = np.where(observed > 0, activity_score(ppw, days), np.nan)

    reach = reach_score(followers)
    parts = {
        "reach": reach,
        "resonance": resonance,
        "authenticity": authenticity,
        "activity": activity,
    }
    return Scores(
        accounts=accounts,
        facts=facts,
        tier_scheme=tier_scheme,
        acct_tier=tier,
        acct_benchmark=acct_bench,
        acct_benchmark_kind=acct_bench_kind,
        acct_cohort_size=acct_cohort_size,
        acct_percentile=acct_percentile,
        acct_resonance=acct_res,
        acct_authenticity=acct_auth,
        acct_flags=flags,
        followers=followers,
        tier=relay_tier,
        reach=reach,
        resonance=resonance,
        authenticity=authenticity,
        activity=activity,
        posts_per_week=ppw,
        last_post=last_post,
        composite=composite(parts, weights),
        weights=weights,
    )


def finite_or_none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)
