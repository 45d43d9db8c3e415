"""The audit of a client (step 1) for a period, compared with the previous one.

Everything is computed from the store by SQL aggregates (:mod:`services.ingest.stats`) and
the period's posts (one row each) for the per-post analyses: top and bottom posts,
content types and formats, the day × hour rate map and posting regularity.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.audit import findings as F
from services.ingest.audit.cache import AuditCache, accounts_fingerprint
from services.ingest.audit.website import website_audit
from services.ingest.stats import repository as stats_repo
from services.ingest.stats import service as stats_service
from services.ingest.stats.repository import PostFact
from services.ingest.store.loader import client_revision
from services.ingest.store.models import Account
from shared.clock import utcnow
from shared.errors import Invalid
from shared.schemas.audit import (
    AuditAccount,
    AuditReport,
    Change,
    GroupPerformance,
    NetworkSummary,
    PostBrief,
    Regularity,
)
from shared.schemas.ingest import (
    SOCIAL_NETWORKS,
    WEB_ANALYTICS,
    AccountPublic,
    AccountStats,
    MetricPoint,
    Network,
    StatsSection,
)

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
TOP_POSTS = 5
#: Slots of the day × hour map need this many posts for their rate to be shown.
SLOT_MIN_POSTS = 3

DEFINITIONS = {
    **stats_service.DEFINITIONS,
    "engagement_rate_by_follower": stats_service.RATE_METHODS["followers"],
    "engagement_rate_by_reach": stats_service.RATE_METHODS["reach"],
    "engagement_rate_by_impression": stats_service.RATE_METHODS["impressions"],
    "network pooled rates": "mean over all the network's posts (every account's posts "
    "weigh the same), never mixing denominators",
    "top and bottom posts": "ranked by engagement rate by follower (by engagements when "
    "followers are unknown)",
    "regularity": "weeks start on Monday (local days); gap = longest run of days without "
    "a post inside the period",
}


def periods(
    start: dt.date | None, end: dt.date | None, compare: str, today: dt.date | None = None
) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """The period (default: the last 90 days up to yesterday) and the one it is compared to."""
    today = today or utcnow().date()
    end = end or today - dt.timedelta(days=1)
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise Invalid("The period's start is after its end.")
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise Invalid(f"The period is {days} days long; at most {MAX_DAYS}.")
    if compare == "year":
        prev_start, prev_end = _minus_year(start), _minus_year(end)
    else:
        prev_end = start - dt.timedelta(days=1)
        prev_start = prev_end - dt.timedelta(days=days - 1)
    return start, end, prev_start, prev_end


def _minus_year(d: dt.date) -> dt.date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


async def client_accounts(session: AsyncSession, client_id: int) -> list[Account]:
    q = (
        select(Account)
        .where(
            Account.client_id == client_id,
            Account.owner_kind == "client",
            col(Account.archived).is_(False),
        )
        .order_by(col(Account.network), col(Account.id))
    )
    return list((await session.exec(q)).all())


async def build_report(
    session: AsyncSession,
    client_id: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: str = "previous",
    min_sample: int = 10,
    accounts: list[Account] | None = None,
) -> AuditReport:
    """The audit of ``client_id``; ``accounts`` are its accounts when already read."""
    start, end, prev_start, prev_end = periods(start, end, compare)
    if accounts is None:
        accounts = await client_accounts(session, client_id)
    social = [a for a in accounts if a.network in {n.value for n in SOCIAL_NETWORKS}]
    web = [a for a in accounts if a.network in {n.value for n in WEB_ANALYTICS}]

    current = [s async for s in stats_service.stats_for(session, social, start, end)]
    previous = [
        s
        async for s in stats_service.stats_for(
            session, social, prev_start, prev_end, sections=[StatsSection.sources]
        )
    ]
    facts: dict[int, list[PostFact]] = defaultdict(list)
    by_tz: dict[str, list[int]] = defaultdict(list)
    for a in social:
        by_tz[a.timezone].append(a.id or 0)
    for tz, ids in by_tz.items():
        for f in await stats_repo.post_facts(session, ids, tz, start, end):
            facts[f.account_id].append(f)

    audit_accounts = []
    for a, cur, prev in zip(social, current, previous, strict=True):
        series = (await stats_repo.daily_series(session, a.id or 0, ["followers"], start, end))[
            "followers"
        ]
        posts = facts.get(a.id or 0, [])
        top, bottom = _top_bottom(a, posts)
        audit_accounts.append(
            AuditAccount(
                account=AccountPublic.model_validate(a, from_attributes=True),
                current=cur,
                previous=prev,
                followers_series=[MetricPoint(day=d, value=v) for d, v in series],
                top_posts=top,
                bottom_posts=bottom,
                by_content_type=_groups(posts, lambda f: f.content_type),
                by_format=_groups(posts, lambda f: f.format or "unknown"),
                regularity=regularity(posts, start, end),
            )
        )
    networks = _networks(current, previous)
    all_facts = [f for fs in facts.values() for f in fs]
    heat = [[0] * 24 for _ in range(7)]
    for s in current:
        for d, row in enumerate(s.posting_heatmap):
            for h, n in enumerate(row):
                heat[d][h] += n
    websites = [await website_audit(session, w, start, end, prev_start, prev_end) for w in web]

    found = []
    for aa in audit_accounts:
        found += F.account_findings(aa, min_sample)
    found += F.network_findings(networks, min_sample)
    for site in websites:
        found += F.website_findings(site)
    return AuditReport(
        client_id=client_id,
        start=start,
        end=end,
        previous_start=prev_start,
        previous_end=prev_end,
        compare=compare,
        generated_at=utcnow(),
        min_sample=min_sample,
        accounts=audit_accounts,
        networks=networks,
        posting_heatmap=heat,
        heatmap_rate=_rate_map(all_facts),
        website=websites,
        findings=F.rank(found),
        definitions=DEFINITIONS,
    )


def _mean(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def _groups(posts: Sequence[PostFact], key) -> list[GroupPerformance]:
    buckets: dict[str, list[PostFact]] = defaultdict(list)
    for f in posts:
        buckets[key(f)].append(f)
    out = []
    for k, fs in buckets.items():
        by_f = [f.rate("followers") for f in fs]
        out.append(
            GroupPerformance(
                key=k,
                posts=len(fs),
                engagement_rate_by_follower=_mean(by_f),
                engagement_rate_by_reach=_mean([f.rate("reach") for f in fs]),
                engagement_rate_by_impression=_mean([f.rate("impressions") for f in fs]),
                rated_posts_by_follower=sum(1 for r in by_f if r is not None),
                mean_engagements=_mean([f.engagements for f in fs]),
            )
        )
    return sorted(out, key=lambda g: (-g.posts, g.key))


def _brief(a: Account, f: PostFact) -> PostBrief:
    return PostBrief(
        post_id=f.post_id,
        account_id=f.account_id,
        network=Network(a.network),
        published_local=f.local,
        content_type=f.content_type,
        format=f.format or None,
        engagements=f.engagements,
        followers_at_post=f.followers,
        reach=f.reach,
        impressions=f.impressions,
        views=f.views,
        engagement_rate_by_follower=f.rate("followers"),
        permalink=f.permalink,
        excerpt=f.text,
    )


def _top_bottom(a: Account, posts: Sequence[PostFact]) -> tuple[list[PostBrief], list[PostBrief]]:
    rated = [f for f in posts if f.rate("followers") is not None]
    if rated:
        ranked = sorted(rated, key=lambda f: (-(f.rate("followers") or 0.0), f.post_id))
    else:
        ranked = sorted(
            (f for f in posts if f.engagements is not None),
            key=lambda f: (-(f.engagements or 0.0), f.post_id),
        )
    top = ranked[:TOP_POSTS]
    rest = ranked[TOP_POSTS:]
    bottom = list(reversed(rest[-TOP_POSTS:]))
    return [_brief(a, f) for f in top], [_brief(a, f) for f in bottom]


def regularity(posts: Sequence[PostFact], start: dt.date, end: dt.date) -> Regularity:
    first_monday = start - dt.timedelta(days=start.weekday())
    weeks = (end - first_monday).days // 7 + 1
    week_starts = [first_monday + dt.timedelta(days=7 * i) for i in range(weeks)]
    counts = [0] * weeks
    days = sorted({f.local.date() for f in posts})
    for f in posts:
        counts[(f.local.date() - first_monday).days // 7] += 1
    gap_len, gap_start, gap_end = None, None, None
    if posts:
        # Runs of days without a post, including before the first and after the last.
        edges = [start - dt.timedelta(days=1), *days, end + dt.timedelta(days=1)]
        best = max(itertools.pairwise(edges), key=lambda p: (p[1] - p[0]).days)
        length = (best[1] - best[0]).days - 1
        if length > 0:
            gap_len = length
            gap_start = best[0] + dt.timedelta(days=1)
            gap_end = best[1] - dt.timedelta(days=1)
        else:
            gap_len = 0
    mean = statistics.fmean(counts) if counts else 0
    cv = statistics.pstdev(counts) / mean if counts and mean else None
    return Regularity(
        weeks=weeks,
        active_weeks=sum(1 for c in counts if c),
        weekly_posts=counts,
        week_starts=week_starts,
        longest_gap_days=gap_len,
        longest_gap_start=gap_start,
        longest_gap_end=gap_end,
        weekly_cv=cv,
    )


def _rate_map(posts: Sequence[PostFact]) -> list[list[float | None]]:
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for f in posts:
        r = f.rate("followers")
        if r is not None:
            cells[(f.local.weekday(), f.local.hour)].append(r)
    return [
        [
            (sum(v) / len(v)) if len(v := cells.get((d, h), [])) >= SLOT_MIN_POSTS else None
            for h in range(24)
        ]
        for d in range(7)
    ]


def _pooled(stats: Sequence[AccountStats], attr: str) -> tuple[float | None, int]:
    total, n = 0.0, 0
    for s in stats:
        r = getattr(s, attr)
        if r.value is not None and r.posts:
            total += r.value * r.posts
            n += r.posts
    return (total / n if n else None), n


def _sum(values: Sequence[float | None]) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) if xs else None


def _growth_pct(stats: Sequence[AccountStats]) -> float | None:
    both = [s for s in stats if s.follower_growth is not None and s.followers_start]
    start = sum(s.followers_start or 0.0 for s in both)
    return sum(s.follower_growth or 0.0 for s in both) / start if both and start else None


def _networks(
    current: Sequence[AccountStats], previous: Sequence[AccountStats]
) -> list[NetworkSummary]:
    by_net: dict[str, tuple[list[AccountStats], list[AccountStats]]] = {}
    for c, p in zip(current, previous, strict=True):
        cur, prev = by_net.setdefault(c.network.value, ([], []))
        cur.append(c)
        prev.append(p)
    out = []
    for net, (cur, prev) in sorted(by_net.items()):

        def ch(attr: str, cur: list[AccountStats] = cur, prev: list[AccountStats] = prev) -> Change:
            return Change.of(
                _sum([getattr(s, attr) for s in cur]), _sum([getattr(s, attr) for s in prev])
            )

        def rate(
            attr: str, cur: list[AccountStats] = cur, prev: list[AccountStats] = prev
        ) -> Change:
            return Change.of(_pooled(cur, attr)[0], _pooled(prev, attr)[0])

        out.append(
            NetworkSummary(
                network=Network(net),
                accounts=len(cur),
                followers_end=ch("followers_end"),
                follower_growth_pct=Change.of(_growth_pct(cur), _growth_pct(prev)),
                posts=Change.of(
                    float(sum(s.posts for s in cur)), float(sum(s.posts for s in prev))
                ),
                posts_per_week=ch("posts_per_week"),
                engagements=ch("engagements"),
                reach=ch("reach"),
                impressions=ch("impressions"),
                views=ch("views"),
                engagement_rate_by_follower=rate("engagement_rate_by_follower"),
                engagement_rate_by_reach=rate("engagement_rate_by_reach"),
                engagement_rate_by_impression=rate("engagement_rate_by_impression"),
                rated_posts_by_follower=_pooled(cur, "engagement_rate_by_follower")[1],
            )
        )
    return out


async def report_json(
    session: AsyncSession,
    cache: AuditCache,
    client_id: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: str = "previous",
    min_sample: int = 10,
) -> tuple[bytes, bool]:
    """The audit as JSON, from ``cache`` while the client's data is unchanged (see
    :mod:`services.ingest.audit.cache`); the flag says whether it was computed now."""
    revision = await client_revision(session, client_id)  # before any data is read
    accounts = await client_accounts(session, client_id)
    key = (
        client_id,
        *periods(start, end, compare),
        compare,
        min_sample,
        revision,
        accounts_fingerprint(accounts),
    )
    body = cache.get(key)
    if body is not None:
        return body, False
    report = await build_report(
        session, client_id, start, end, compare, min_sample, accounts=accounts
    )
    body = report.model_dump_json().encode()
    cache.put(key, body)
    return body, True
