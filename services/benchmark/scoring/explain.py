"""Each relay's score explained: every component with its value, its inputs and its rule.

A rescoring run stores, with each score, the *compact* explanation: the numbers the
engine measured for the relay and each of its accounts, as positional rows
(:data:`RELAY_FIELDS`, :data:`ACCOUNT_FIELDS`), built for the whole directory at once
from the engine's arrays. Reading a score expands it (:func:`expand`) into what the API
returns and the relay profile shows: every component with its value, its data and its
rule, each authenticity check with its evidence. The rules are the code's, the numbers
the run's, so a score read later still says what it was made of.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from services.benchmark import reference
from services.benchmark.scoring import engine as E
from services.benchmark.scoring.models import RelayScore, ScoringRun
from shared.perf import gc_paused


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return None if math.isnan(v) else v


def _day(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).date().isoformat()


COMPACT_VERSION = 2
ACCOUNT_FIELDS = (
    "account_id",
    "network",
    "followers",
    "following",
    "tier",
    "posts_window",
    "posts_recent",
    "last_post",
    "er_median",
    "er_posts",
    "er_cv",
    "spikes",
    "max_spike_gain",
    "benchmark",
    "benchmark_kind",
    "cohort_size",
    "percentile",
    "resonance",
    "authenticity",
    "flags",
)
RELAY_FIELDS = (
    "followers",
    "posts_per_week",
    "last_post",
    "tier",
    "reach",
    "resonance",
    "authenticity",
    "activity",
    "composite",
)


def _account_columns(s: E.Scores) -> list[np.ndarray]:
    f = s.facts
    return [
        s.accounts.account_id,
        s.accounts.network,
        f.followers,
        f.following,
        s.acct_tier,
        f.posts_window,
        f.posts_recent,
        f.last_post,
        f.er_median,
        f.er_posts,
        f.er_cv,
        f.spikes,
        f.max_spike_gain,
        s.acct_benchmark,
        s.acct_benchmark_kind,
        s.acct_cohort_size,
        s.acct_percentile,
        s.acct_resonance,
        s.acct_authenticity,
        s.acct_flags,
    ]


def _relay_columns(s: E.Scores) -> list[np.ndarray]:
    return [
        s.followers,
        s.posts_per_week,
        s.last_post,
        s.tier,
        s.reach,
        s.resonance,
        s.authenticity,
        s.activity,
        s.composite,
    ]


def _rows(columns: list[np.ndarray]) -> list[list[float | None]]:
    """Rows of the columns as JSON-ready lists (NaN becomes None), in one vector pass."""
    m = np.column_stack([c.astype(np.float64, copy=False) for c in columns])
    if m.shape[0] == 0:
        return []
    out = m.astype(object)
    out[np.isnan(m)] = None
    rows: list[list[float | None]] = out.tolist()
    return rows


def _json_rows(m: np.ndarray) -> list[bytes]:
    """Each row of a float matrix as the inside of a JSON list (``1.0,null,…``), NaN as
    null, serialised by orjson straight from NumPy."""
    if m.shape[0] == 0:
        return []
    text = orjson.dumps(np.ascontiguousarray(m), option=orjson.OPT_SERIALIZE_NUMPY)
    return text[2:-2].split(b"],[")  # numbers and nulls hold no bracket


COMPACT_BLOCK = 4096  # relays serialised at a time: their buffers are reused, not grown


def compact_all(s: E.Scores) -> list[bytes]:
    """The compact explanation of every relay, as the JSON text the run stores.

    The same document as ``{"v": COMPACT_VERSION, "relay": [...], "accounts": [[...],
    ...]}`` built from Python lists, without building them: orjson writes the numbers
    straight from the NumPy matrices, a block of relays at a time. Bytes are JSON text
    to a JSON column (:func:`shared.db.create_engine`).
    """
    rel = s.accounts.relay
    n_relays = s.accounts.n_relays
    order = np.argsort(rel, kind="stable")  # each relay's accounts, in table order
    bounds = np.searchsorted(rel[order], np.arange(n_relays + 1))
    acc_m = np.column_stack([c[order].astype(np.float64) for c in _account_columns(s)])
    rel_m = np.column_stack([c.astype(np.float64, copy=False) for c in _relay_columns(s)])
    doc = b'{"v":%d,"relay":[%%b],"accounts":[%%b]}' % COMPACT_VERSION
    one = doc.replace(b"[%b]}", b"[[%b]]}")
    out: list[bytes] = []
    with gc_paused():
        for r0 in range(0, n_relays, COMPACT_BLOCK):
            r1 = min(r0 + COMPACT_BLOCK, n_relays)
            a0, a1 = int(bounds[r0]), int(bounds[r1])
            relays = _json_rows(rel_m[r0:r1])
            accounts = _json_rows(acc_m[a0:a1])
            if a1 - a0 == r1 - r0 and bool(np.all(np.diff(bounds[r0 : r1 + 1]) == 1)):
                # One account each (the usual directory): one formatting per relay.
                out.extend(one % pair for pair in zip(relays, accounts, strict=True))
                continue
            for row, b0, b1 in zip(
                relays, bounds[r0:r1].tolist(), bounds[r0 + 1 : r1 + 1].tolist(), strict=True
            ):
                group = accounts[b0 - a0 : b1 - a0]
                out.append(doc % (row, b"],[".join(group).join((b"[", b"]")) if group else b""))
    return out


def _int(x: Any, default: int = 0) -> int:
    return default if x is None else int(x)


def account_explanation(row: Sequence[Any], tier_scheme: str) -> dict[str, Any]:
    """One account's part of an explanation, from its compact row."""
    f = dict(zip(ACCOUNT_FIELDS, row, strict=True))
    tier_i = _int(f["tier"], -1)
    flags = _int(f["flags"])
    net = E.NETWORKS[_int(f["network"])]
    checks: list[dict[str, Any]] = []

    def check(name: str, failed: bool, points: float, rule: str, evidence: str) -> None:
        checks.append(
            {
                "check": name,
                "result": "warning" if failed else "ok",
                "points_lost": points if failed else 0.0,
                "rule": rule,
                "evidence": evidence,
            }
        )

    followers = _num(f["followers"])
    following = _num(f["following"])
    if flags & E.FLAG_NO_FOLLOWING:
        checks.append(
            {
                "check": "mass_follower",
                "result": "not_assessed",
                "points_lost": 0.0,
                "rule": f"following more than {int(E.MASS_FOLLOWING):,} accounts (HypeAuditor)",
                "evidence": "the number of accounts it follows is not known",
            }
        )
    else:
        check(
            "mass_follower",
            bool(flags & E.FLAG_MASS_FOLLOWER),
            E.PENALTY_MASS_FOLLOWER,
            f"following more than {int(E.MASS_FOLLOWING):,} accounts (HypeAuditor)",
            f"follows {following:,.0f} accounts",
        )
        check(
            "following_ratio",
            bool(flags & E.FLAG_FOLLOWING_RATIO),
            E.PENALTY_FOLLOWING_RATIO,
            "follows at least as many accounts as follow it",
            f"{following:,.0f} following / {followers or 0:,.0f} followers",
        )
    spikes = _int(f["spikes"], -1)
    spike_rule = (
        f"a day gaining ≥ {E.SPIKE_MIN_GAIN:.0f} followers, > {E.SPIKE_MIN_SHARE:.0%} of the "
        f"day before and > {E.SPIKE_MEAN_FACTOR:.0f}× the account's mean daily change; "
        f"{E.PENALTY_PER_SPIKE:.0f} points each, at most {E.MAX_SPIKE_PENALTY:.0f}"
    )
    if spikes < 0:
        checks.append(
            {
                "check": "growth_spikes",
                "result": "not_assessed",
                "points_lost": 0.0,
                "rule": spike_rule,
                "evidence": f"fewer than {E.SPIKE_MIN_DAYS} consecutive days of follower counts",
            }
        )
    else:
        gain = _num(f["max_spike_gain"])
        check(
            "growth_spikes",
            spikes > 0,
            min(E.MAX_SPIKE_PENALTY, E.PENALTY_PER_SPIKE * spikes),
            spike_rule,
            f"{spikes} spike day(s)" + (f", largest +{gain:,.0f}" if gain else ""),
        )
    bench = _num(f["benchmark"])
    er = _num(f["er_median"])
    if er is None:
        checks.append(
            {
                "check": "engagement_anomalies",
                "result": "not_assessed",
                "points_lost": 0.0,
                "rule": "engagement far above the tier's benchmark, or suspiciously uniform",
                "evidence": "no post with both engagements and followers known",
            }
        )
    else:
        check(
            "engagement_too_high",
            bool(flags & E.FLAG_ER_HIGH),
            E.PENALTY_ER_HIGH,
            f"median rate above {E.ER_HIGH_FACTOR:.0f}× the tier × network benchmark",
            f"median {er:.4%}" + (f" vs benchmark {bench:.4%}" if bench else " (no benchmark)"),
        )
        cv = _num(f["er_cv"])
        check(
            "engagement_uniform",
            bool(flags & E.FLAG_ER_UNIFORM),
            E.PENALTY_ER_UNIFORM,
            f"coefficient of variation of post rates under {E.ER_UNIFORM_CV} "
            f"(≥ {E.ER_UNIFORM_MIN_POSTS} posts)",
            f"coefficient of variation {cv:.3f}" if cv is not None else "too few posts",
        )
    kind = _int(f["benchmark_kind"])
    tier = E.TIERS[tier_i] if tier_i >= 0 else None
    bench_source = None
    if kind == 1 and tier:
        fig = reference.tier_engagement_benchmark(tier_scheme, tier, net)
        bench_source = f"{fig.source} ({fig.year}), {fig.method}" if fig else None
    elif kind == 2:
        bench_source = (
            f"median of the {_int(f['cohort_size'])} {tier} {net} accounts of the directory"
        )
    resonance_reason = None
    if _num(f["resonance"]) is None:
        if followers is None or followers < E.RESONANCE_MIN_FOLLOWERS:
            resonance_reason = f"under {int(E.RESONANCE_MIN_FOLLOWERS):,} followers (Traackr)"
        elif _int(f["posts_window"]) < E.RESONANCE_MIN_POSTS:
            resonance_reason = f"under {int(E.RESONANCE_MIN_POSTS)} posts in 12 months (Traackr)"
        elif er is None:
            resonance_reason = "no engagement rate"
        elif tier is None:
            resonance_reason = "no tier"
        else:
            resonance_reason = (
                f"no published benchmark for {tier} on {net} and fewer than "
                f"{E.MIN_COHORT} such accounts in the directory"
            )
    return {
        "account_id": _int(f["account_id"]),
        "network": net,
        "followers": followers,
        "following": following,
        "tier": tier,
        "posts_12_months": _int(f["posts_window"]),
        "posts_90_days": _int(f["posts_recent"]),
        "last_post": _day(_num(f["last_post"])),
        "engagement_rate_by_follower": er,
        "engagement_rate_definition": "median over the posts of 12 months of engagements ÷ "
        "followers when posted",
        "rate_posts": _int(f["er_posts"]),
        "benchmark": bench,
        "benchmark_source": bench_source,
        "percentile_in_tier_network": _num(f["percentile"]),
        "resonance": _num(f["resonance"]),
        "resonance_not_scored": resonance_reason,
        "authenticity": _num(f["authenticity"]),
        "authenticity_checks": checks,
    }


def expand(
    compact: dict[str, Any],
    *,
    tier_scheme: str,
    weights: dict[str, float],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The full explanation of one relay from its stored compact form.

    ``extra`` adds the run's own facts (its id and date, the data path, notes).
    """
    if compact.get("v") != COMPACT_VERSION:
        return compact  # an explanation stored whole by an older run
    r = dict(zip(RELAY_FIELDS, compact["relay"], strict=True))
    followers = _num(r["followers"])
    ppw = _num(r["posts_per_week"])
    last = _num(r["last_post"])
    tier_i = _int(r["tier"], -1)
    comps: dict[str, Any] = {
        "reach": {
            "score": _num(r["reach"]),
            "data": {"followers": followers},
            "rule": "100 × (log10(followers) − 2) ÷ 5, clipped to 0–100: 1K → 20, 10K → 40, "
            "100K → 60, 1M → 80; followers summed over the relay's accounts",
        },
        "resonance": {
            "score": _num(r["resonance"]),
            "rule": "50 + 50 × log2(median engagement rate ÷ the tier × network benchmark), "
            "clipped to 0–100; follower-weighted over the relay's scored accounts",
        },
        "authenticity": {
            "score": _num(r["authenticity"]),
            "rule": "100 minus the points lost to warning signs; the lowest of the accounts",
        },
        "activity": {
            "score": _num(r["activity"]),
            "data": {"posts_per_week_90_days": ppw, "last_post": _day(last)},
            "rule": "60 × min(1, posts per week ÷ 3) + 40 × recency (1 up to 7 days since the "
            "last post, 0 at 180 days)",
        },
    }
    return {
        "tier": E.TIERS[tier_i] if tier_i >= 0 else None,
        "tier_scheme": reference.tier_scheme(tier_scheme).describe(),
        "components": comps,
        "accounts": [account_explanation(a, tier_scheme) for a in compact["accounts"]],
        "composite": _num(r["composite"]),
        "weights": weights,
        "composite_rule": "weighted mean of the components that could be scored; the "
        "weights of missing components are left out, not counted as 0",
        **(extra or {}),
    }


def relay_explanation(s: E.Scores, relay: int, account_rows: list[int]) -> dict[str, Any]:
    """The full explanation of one relay straight from a run's arrays."""
    accounts = _rows([c[account_rows] for c in _account_columns(s)]) if account_rows else []
    relays = _rows([c[relay : relay + 1] for c in _relay_columns(s)])
    compact = {"v": COMPACT_VERSION, "relay": relays[0], "accounts": accounts}
    return expand(compact, tier_scheme=s.tier_scheme, weights=s.weights)


def explanation(score: RelayScore, run: ScoringRun | None) -> dict[str, Any]:
    """A stored score's full explanation (its compact form expanded with its run's facts)."""
    if run is None:
        return expand(score.components, tier_scheme="hypeauditor", weights={})
    return expand(
        score.components,
        tier_scheme=run.tier_scheme,
        weights={k: v for k, v in run.weights.items() if k != "relevance"},
        extra={
            "rate_method": run.rate_method,
            "data_path": run.data_path,
            "notes": list(run.notes or []),
            "run": {"id": run.id, "as_of": run.window_end.isoformat()},
        },
    )
