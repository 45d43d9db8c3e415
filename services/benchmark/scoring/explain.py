"""Each relay's score explained: every component with its value, its inputs and its rule.

The dictionaries built here are what the API returns and the relay profile shows; they
are stored with the score so that a score read later still says what it was made of.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from services.benchmark import reference
from services.benchmark.scoring import engine as E


def _num(x: Any) -> float | None:
    if x is None:
        return None
    v = float(x)
    return None if math.isnan(v) else v


def _day(ts: float | None) -> str | None:
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).date().isoformat()


def account_explanation(s: E.Scores, a: int) -> dict[str, Any]:
    f = s.facts
    tier_i = int(s.acct_tier[a])
    flags = int(s.acct_flags[a])
    net = E.NETWORKS[int(s.accounts.network[a])]
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

    followers = _num(f.followers[a])
    following = _num(f.following[a])
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
    spikes = int(f.spikes[a])
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
        gain = _num(s.facts.max_spike_gain[a])
        check(
            "growth_spikes",
            spikes > 0,
            min(E.MAX_SPIKE_PENALTY, E.PENALTY_PER_SPIKE * spikes),
            spike_rule,
            f"{spikes} spike day(s)" + (f", largest +{gain:,.0f}" if gain else ""),
        )
    bench = _num(s.acct_benchmark[a])
    er = _num(f.er_median[a])
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
        cv = _num(f.er_cv[a])
        check(
            "engagement_uniform",
            bool(flags & E.FLAG_ER_UNIFORM),
            E.PENALTY_ER_UNIFORM,
            f"coefficient of variation of post rates under {E.ER_UNIFORM_CV} "
            f"(≥ {E.ER_UNIFORM_MIN_POSTS} posts)",
            f"coefficient of variation {cv:.3f}" if cv is not None else "too few posts",
        )
    kind = int(s.acct_benchmark_kind[a])
    tier = E.TIERS[tier_i] if tier_i >= 0 else None
    bench_source = None
    if kind == 1 and tier:
        fig = reference.tier_engagement_benchmark(s.tier_scheme, tier, net)
        bench_source = f"{fig.source} ({fig.year}), {fig.method}" if fig else None
    elif kind == 2:
        bench_source = (
            f"median of the {int(s.acct_cohort_size[a])} {tier} {net} accounts of the directory"
        )
    resonance_reason = None
    if _num(s.acct_resonance[a]) is None:
        if followers is None or followers < E.RESONANCE_MIN_FOLLOWERS:
            resonance_reason = f"under {int(E.RESONANCE_MIN_FOLLOWERS):,} followers (Traackr)"
        elif int(f.posts_window[a]) < E.RESONANCE_MIN_POSTS:
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
        "account_id": int(s.accounts.account_id[a]),
        "network": net,
        "followers": followers,
        "following": following,
        "tier": tier,
        "posts_12_months": int(f.posts_window[a]),
        "posts_90_days": int(f.posts_recent[a]),
        "last_post": _day(_num(f.last_post[a])),
        "engagement_rate_by_follower": er,
        "engagement_rate_definition": "median over the posts of 12 months of engagements ÷ "
        "followers when posted",
        "rate_posts": int(f.er_posts[a]),
        "benchmark": bench,
        "benchmark_source": bench_source,
        "percentile_in_tier_network": _num(s.acct_percentile[a]),
        "resonance": _num(s.acct_resonance[a]),
        "resonance_not_scored": resonance_reason,
        "authenticity": _num(s.acct_authenticity[a]),
        "authenticity_checks": checks,
    }


def relay_explanation(s: E.Scores, relay: int, account_rows: list[int]) -> dict[str, Any]:
    """Components of one relay; ``account_rows`` are its rows in ``s.accounts``."""
    followers = _num(s.followers[relay])
    ppw = _num(s.posts_per_week[relay])
    last = _num(s.last_post[relay])
    tier_i = int(s.tier[relay])
    comps: dict[str, Any] = {
        "reach": {
            "score": _num(s.reach[relay]),
            "data": {"followers": followers},
            "rule": "100 × (log10(followers) − 2) ÷ 5, clipped to 0–100: 1K → 20, 10K → 40, "
            "100K → 60, 1M → 80; followers summed over the relay's accounts",
        },
        "resonance": {
            "score": _num(s.resonance[relay]),
            "rule": "50 + 50 × log2(median engagement rate ÷ the tier × network benchmark), "
            "clipped to 0–100; follower-weighted over the relay's scored accounts",
        },
        "authenticity": {
            "score": _num(s.authenticity[relay]),
            "rule": "100 minus the points lost to warning signs; the lowest of the accounts",
        },
        "activity": {
            "score": _num(s.activity[relay]),
            "data": {"posts_per_week_90_days": ppw, "last_post": _day(last)},
            "rule": "60 × min(1, posts per week ÷ 3) + 40 × recency (1 up to 7 days since the "
            "last post, 0 at 180 days)",
        },
    }
    return {
        "tier": E.TIERS[tier_i] if tier_i >= 0 else None,
        "tier_scheme": reference.tier_scheme(s.tier_scheme).describe(),
        "components": comps,
        "accounts": [account_explanation(s, a) for a in account_rows],
        "composite": _num(s.composite[relay]),
        "weights": s.weights,
        "composite_rule": "weighted mean of the components that could be scored; the "
        "weights of missing components are left out, not counted as 0",
    }
