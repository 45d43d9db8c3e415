"""How a post's totals unfold over time: dated snapshots and the account's daily flows.

A post's 90-day totals (made by :mod:`services.demo.engine`) are read on the days Balise
would have synced it; the client's daily insights are the sum of its posts' daily
increments plus activity that is not tied to a post (stories, profile and page views).
"""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np

from services.demo.engine_types import SNAPSHOT_AGES, AccountPlan, SimPost
from services.demo.networks import LIFETIME_DAYS, NetworkProfile
from services.demo.rand import around

# ---------------------------------------------------------------------------- snapshots


def latest_age(plan: AccountPlan, post: SimPost) -> int:
    """Age in days of the post's latest snapshot (see :func:`_snapshot`)."""
    latest = min(plan.end, post.local_day + dt.timedelta(days=SNAPSHOT_AGES[-1]))
    return (max(latest, plan.collected_from) - post.local_day).days


def snapshot(plan: AccountPlan, profile: NetworkProfile, posts: list[SimPost]) -> None:
    """Read each post's curve on the days Balise would have synced it."""
    for post in posts:
        dates = {post.local_day + dt.timedelta(days=a) for a in SNAPSHOT_AGES}
        dates.add(min(plan.end, post.local_day + dt.timedelta(days=SNAPSHOT_AGES[-1])))
        if post.local_day < plan.collected_from:
            dates.add(plan.collected_from)  # first seen when collection started
        public = public_components(profile)
        for day in sorted(d for d in dates if plan.collected_from <= d <= plan.end):
            if day < post.local_day:
                continue
            share = profile.share_by((day - post.local_day).days)
            # Half-up rounding of a growing share never goes down from one snapshot to the next.
            values = {m: float(math.floor(v * share + 0.5)) for m, v in post.totals.items()}
            if plan.own_insights:
                values["engagements"] = sum(values[m] for m in profile.components)
            else:
                values = {m: v for m, v in values.items() if m in profile.public}
                values["engagements"] = sum(values[m] for m in public)
            post.snapshots.append((day, values))


def public_components(profile: NetworkProfile) -> list[str]:
    return [m for m in profile.components if m in profile.public]


# ---------------------------------------------------------------------------- daily flows


def daily_flows(
    rng: random.Random,
    plan: AccountPlan,
    profile: NetworkProfile,
    posts: list[SimPost],
    all_days: list[dt.date],
    followers: np.ndarray,
) -> dict[str, list[float]]:
    n = len(all_days)
    out: dict[str, list[float]] = {}
    if plan.own_insights:
        shares = np.array([profile.share_by(k) for k in range(LIFETIME_DAYS)])
        increments = np.diff(shares, prepend=0.0)
        flows: dict[str, np.ndarray] = {}
        for post in posts:
            i = (post.local_day - plan.history_from).days
            span = min(LIFETIME_DAYS, n - i)
            for metric, total in post.totals.items():
                arr = flows.setdefault(metric, np.zeros(n))
                arr[i : i + span] += total * increments[:span]
        noise = np.array([around(rng, 1.0, 0.12) for _ in range(n)])
        off_post = 0.18 * noise  # stories, profile and page views, older content
        exposure = flows.get(profile.exposure, np.zeros(n)) * (1 + off_post)
        for metric in profile.daily:
            if metric == profile.exposure:
                values = exposure
            elif metric == "reach":
                values = exposure * (profile.reach_ratio or 0.7) * 0.85
            elif metric == "profile_visits":
                values = exposure * 0.011 * noise
            elif metric == "link_clicks" and plan.network == "instagram":
                values = exposure * 0.0012 * noise
            elif metric == "engagements":
                continue
            else:
                values = flows.get(metric, np.zeros(n)) * (1 + off_post / 3)
            out[metric] = [float(round(v)) for v in values]
        if "engagements" in profile.daily:
            parts = [out[m] for m in profile.components if m in out]
            out["engagements"] = [float(sum(vals)) for vals in zip(*parts, strict=True)]
    if profile.follows and plan.own_insights:
        net = np.diff(np.round(followers), prepend=round(plan.followers))
        churn = np.array([rng.uniform(0.18, 0.4) for _ in range(n)])
        # Rounded first so that followers(d) = followers(d-1) + follows - unfollows exactly.
        gained = np.where(net > 0, np.floor(net / (1 - churn) + 0.5), 0.0)
        lost = np.where(net > 0, gained - net, -net)
        out["follows"] = [float(round(g)) for g in gained]
        if profile.unfollows:
            out["unfollows"] = [float(round(x)) for x in lost]
    return out
