"""The account simulator shared by the client, the peers and the relays.

One :class:`AccountPlan` says who the account is and how it behaves; :func:`simulate`
turns it into a daily follower series, posts with dated metric snapshots and (for the
client's own accounts, whose insights it can read) daily account metrics. It is pure:
the same plan and seed give the same output.

How the numbers are made, in order:

1. followers grow by a seasonal daily net gain around the plan's monthly rate, with the
   plan's events (a contest, a purge, a bought-follower spike) on top;
2. posts are drawn week by week (Poisson around the posts-per-week target) at local times
   drawn from the network's posting habits;
3. each post gets an engagement multiplier (its format, its time slot, noise, breakouts)
   and the whole account is then scaled so that the median engagement rate at each post's
   latest snapshot equals the plan's target: the published figure is what the median is
   tied to, the spread around it is the demo's;
4. a post's totals unfold over 90 days (faster on X, slower on YouTube and Pinterest):
   snapshots read that curve at +1, +7 and +30 days (and on the last day), and the
   account's daily flows are the sum of its posts' daily increments plus off-post activity.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics

import numpy as np

from services.demo import captions, unfold
from services.demo.engine_types import AccountPlan, SimAccount, SimPost
from services.demo.networks import PROFILES, NetworkProfile
from services.demo.rand import around, poisson, stream, weighted
from services.demo.timeline import LOCAL, local_to_utc, season, season_name


def simulate(seed: int, plan: AccountPlan) -> SimAccount:
    profile = PROFILES[plan.network]
    rng = stream(seed, plan.key)
    n = (plan.end - plan.history_from).days + 1
    all_days = [plan.history_from + dt.timedelta(days=i) for i in range(n)]
    posts = _draw_posts(rng, plan, profile, all_days)
    followers = _followers(rng, plan, all_days, {p.local_day for p in posts if p.breakout})
    for post in posts:
        post.followers_at_post = float(followers[(post.local_day - plan.history_from).days])
    _engagement(rng, plan, profile, posts)
    unfold.snapshot(plan, profile, posts)
    first = (plan.collected_from - plan.history_from).days
    days = all_days[first:]
    series = [
        float("nan") if d in plan.missing_follower_days else float(round(f))
        for d, f in zip(days, followers[first:], strict=True)
    ]
    daily = unfold.daily_flows(rng, plan, profile, posts, all_days, followers)
    return SimAccount(plan, profile, days, series, {k: v[first:] for k, v in daily.items()}, posts)


# ---------------------------------------------------------------------------- posts


def _draw_posts(
    rng: random.Random, plan: AccountPlan, profile: NetworkProfile, all_days: list[dt.date]
) -> list[SimPost]:
    posts: list[SimPost] = []
    monday = plan.history_from - dt.timedelta(days=plan.history_from.weekday())
    while monday <= plan.end:
        mid_week = monday + dt.timedelta(days=3)
        rate = plan.posts_per_week * season(mid_week) ** 0.5
        taken: set[tuple[dt.date, int]] = set()
        for _ in range(poisson(rng, rate)):
            weekday = weighted(rng, range(7), profile.post_weekdays)
            hour = weighted(rng, range(24), profile.post_hours)
            day = monday + dt.timedelta(days=weekday)
            if not plan.history_from <= day <= plan.end or (day, hour) in taken:
                continue
            taken.add((day, hour))
            posts.append(_new_post(rng, plan, profile, day, hour))
        monday += dt.timedelta(days=7)
    posts.sort(key=lambda p: p.published_at)
    if plan.breakouts:
        # Breakouts fall on well-made posts of the busy season, as they do.
        strong = {k.format for k in profile.kinds if k.er >= 1.15}
        candidates = [
            p for p in posts if season(p.local_day) >= 1.2 and p.format in strong
        ] or posts
        for post in rng.sample(candidates, k=min(plan.breakouts, len(candidates))):
            post.breakout = True
    return posts


def _new_post(
    rng: random.Random, plan: AccountPlan, profile: NetworkProfile, day: dt.date, hour: int
) -> SimPost:
    kind = weighted(rng, profile.kinds, profile.kind_weights())
    minute = rng.choice((0, 0, 0, 5, 15, 30, 30, 45))
    published = local_to_utc(day, hour, minute)
    theme = (
        rng.choice(plan.themes)
        if plan.themes
        else captions.pick_theme(rng, season_name(day), plan.network)
    )
    if theme == "hiver" and season_name(day) != "hiver":
        theme = "plein_air"
    text = captions.caption(rng, theme, plan.network, plan.voice)
    title = None
    if plan.network in ("youtube", "pinterest"):
        title = captions.title(rng, theme, kind.content_type, plan.voice)
    duration = float(rng.randint(*kind.video_seconds)) if kind.video_seconds else None
    ext, link = _post_ids(rng, plan, published, kind.content_type)
    return SimPost(
        external_id=ext,
        published_at=published,
        local_day=day,
        content_type=kind.content_type,
        format=kind.format,
        text=text,
        title=title,
        permalink=link,
        duration_seconds=duration,
        theme=theme,
        breakout=False,
        followers_at_post=0.0,
        totals={},
    )


def _post_ids(
    rng: random.Random, plan: AccountPlan, published: dt.datetime, content_type: str
) -> tuple[str, str]:
    stamp = int(published.timestamp())
    tail = rng.randrange(10**6)
    net, handle = plan.network, plan.handle
    if net == "facebook":
        ext = f"{plan.external_id}_{stamp}{tail:06d}"
        return ext, f"https://www.facebook.com/{plan.external_id}/posts/{stamp}{tail:06d}"
    if net == "instagram":
        return f"179{stamp}{tail:06d}", f"https://www.instagram.com/p/{_code(rng)}/"
    if net in ("x", "tiktok"):
        ext = f"{(stamp - 1288834974) * 4194304 + tail}"  # snowflake-like, time-ordered
        if net == "x":
            return ext, f"https://x.com/{handle}/status/{ext}"
        return ext, f"https://www.tiktok.com/@{handle}/video/{ext}"
    if net == "linkedin":
        ext = f"urn:li:share:{stamp}{tail:06d}"
        return ext, f"https://www.linkedin.com/feed/update/{ext}/"
    if net == "youtube":
        code = _code(rng)
        kind = "shorts/" if content_type == "short" else "watch?v="
        return code, f"https://www.youtube.com/{kind}{code}"
    return f"{stamp}{tail:06d}", f"https://www.pinterest.com/pin/{stamp}{tail:06d}/"


def apportion(parts: dict[str, float]) -> dict[str, float]:
    """Round parts to integers whose sum is the rounded total (largest remainders first)."""
    total = round(sum(parts.values()))
    floors = {m: float(int(v)) for m, v in parts.items()}
    left = total - int(sum(floors.values()))
    for m in sorted(parts, key=lambda k: parts[k] - floors[k], reverse=True)[: max(left, 0)]:
        floors[m] += 1
    return floors


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _code(rng: random.Random) -> str:
    """An 11-character id like Instagram shortcodes and YouTube video ids."""
    return "".join(rng.choices(_ALPHABET, k=11))


# ---------------------------------------------------------------------------- followers


def _followers(
    rng: random.Random, plan: AccountPlan, all_days: list[dt.date], breakout_days: set[dt.date]
) -> np.ndarray:
    mean_season = statistics.fmean(season(d) for d in all_days)
    out = np.empty(len(all_days))
    current = plan.followers
    for i, day in enumerate(all_days):
        rate = plan.monthly_growth / 30 * season(day) / mean_season
        net = current * rate * around(rng, 1.0, 0.35)
        for event in plan.events:
            if event.covers(day):
                net += plan.followers * event.change / event.days
        if day in breakout_days or (day - dt.timedelta(days=1)) in breakout_days:
            net += current * 0.004 * around(rng, 1.0, 0.3)
        current = max(current + net, 1.0)
        out[i] = current
    return out


# ---------------------------------------------------------------------------- engagement


def _engagement(
    rng: random.Random, plan: AccountPlan, profile: NetworkProfile, posts: list[SimPost]
) -> None:
    if not posts:
        return
    raw: list[float] = []
    for post in posts:
        local = post.published_at.astimezone(LOCAL)
        kind_er = next(k.er for k in profile.kinds if k.format == post.format)
        slot = profile.good_weekdays[local.weekday()] * profile.good_hours[local.hour]
        mult = kind_er * slot * around(rng, 1.0, 0.45)
        if post.breakout:
            mult *= rng.uniform(6.0, 14.0)
        raw.append(mult)
    # Scale so that the median rate read at each post's latest snapshot is the target.
    latest = [profile.share_by(unfold.latest_age(plan, p)) for p in posts]
    if plan.by_exposure:
        exposure = [
            p.followers_at_post * plan.exposure_per_follower * around(rng, 1.0, 0.5) for p in posts
        ]
        scale = plan.er_target / statistics.median(raw)
        engagements = [e * m * scale for e, m in zip(exposure, raw, strict=True)]
    else:
        seen = [m * s for m, s in zip(raw, latest, strict=True)]
        # Others see only the public counts: tie *those* to the target for them.
        public = sum(profile.components[m] for m in unfold.public_components(profile))
        scale = plan.er_target / statistics.median(seen) / (1 if plan.own_insights else public)
        engagements = [p.followers_at_post * m * scale for p, m in zip(posts, raw, strict=True)]
        exposure = [e / (plan.er_by_exposure * around(rng, 1.0, 0.35)) for e in engagements]
    for post, eng, exp in zip(posts, engagements, exposure, strict=True):
        post.totals = _split(rng, plan, profile, post, eng, exp)


def _split(
    rng: random.Random,
    plan: AccountPlan,
    profile: NetworkProfile,
    post: SimPost,
    engagements: float,
    exposure: float,
) -> dict[str, float]:
    weights = {m: s * around(rng, 1.0, 0.25) for m, s in profile.components.items()}
    total_w = sum(weights.values())
    # Whole components whose sum is the rounded total: rounding each alone would lose most
    # of a small account's few engagements.
    totals = apportion({m: engagements * w / total_w for m, w in weights.items()})
    totals[profile.exposure] = max(exposure, engagements * 1.05)
    if profile.reach_ratio:
        totals["reach"] = totals[profile.exposure] * profile.reach_ratio * rng.uniform(0.85, 1.0)
    for metric, rate in profile.clicks_per_exposure.items():
        totals[metric] = totals[profile.exposure] * rate * around(rng, 1.0, 0.4)
    if plan.network == "facebook" and post.content_type == "link":
        totals["link_clicks"] = totals[profile.exposure] * 0.011 * around(rng, 1.0, 0.4)
    if post.duration_seconds is not None and plan.network in ("facebook", "youtube"):
        views = totals[profile.exposure] * (0.45 if plan.network == "facebook" else 1.0)
        if plan.network == "facebook":
            totals["video_views"] = views
        retention = 0.8 if post.duration_seconds <= 60 else 0.4
        totals["watch_time_seconds"] = views * post.duration_seconds * retention
    return totals
