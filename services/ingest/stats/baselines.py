"""KPI baselines of a client: where each metric stands over a window (default: the last
90 days up to yesterday), per network and across networks. No data gives ``value=None``
("no baseline"), never zero."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.audit.website import website_audit
from services.ingest.stats import service as stats_service
from services.ingest.store.models import Account
from shared.schemas.ingest import (
    SOCIAL_NETWORKS,
    WEB_ANALYTICS,
    AccountStats,
    Baseline,
    Network,
    StatsSection,
)

RATES = {
    "engagement_rate_by_follower": "followers",
    "engagement_rate_by_reach": "reach",
    "engagement_rate_by_impression": "impressions",
    "engagement_rate_by_view": "views",
}
SUMS = {
    "engagements": "count",
    "reach": "count",
    "impressions": "count",
    "views": "count",
}


def _social_baselines(
    client_id: int,
    network: Network | None,
    stats: Sequence[AccountStats],
    sources: dict[int, list[str]],
    start: dt.date,
    end: dt.date,
) -> list[Baseline]:
    ids = [s.account_id for s in stats]
    srcs = sorted({x for s in stats for x in sources.get(s.account_id, [])})

    def b(metric: str, value: float | None, unit: str, definition: str) -> Baseline:
        return Baseline(
            client_id=client_id,
            network=network,
            metric=metric,
            window_start=start,
            window_end=end,
            value=value,
            unit=unit,
            definition=definition,
            accounts=ids,
            sources=srcs,
        )

    with_f = [s for s in stats if s.followers_end is not None]
    grown = [s for s in stats if s.follower_growth is not None and s.followers_start]
    grow_base = sum(s.followers_start or 0.0 for s in grown)
    with_posts = [s for s in stats if s.posts_per_week is not None]
    out = [
        b(
            "followers",
            sum(s.followers_end or 0.0 for s in with_f) if with_f else None,
            "count",
            "sum over the accounts of their last followers count in the window",
        ),
        b(
            "follower_growth_pct",
            sum(s.follower_growth or 0.0 for s in grown) / grow_base
            if grown and grow_base
            else None,
            "ratio",
            "followers gained in the window / followers at its start (accounts with both)",
        ),
        b(
            "posts_per_week",
            sum(s.posts_per_week or 0.0 for s in with_posts) if with_posts else None,
            "posts/week",
            stats_service.DEFINITIONS["posts_per_week"] + ", summed over the accounts",
        ),
    ]
    for metric, unit in SUMS.items():
        vals = [getattr(s, metric) for s in stats if getattr(s, metric) is not None]
        out.append(b(metric, sum(vals) if vals else None, unit, stats_service.DEFINITIONS[metric]))
    for metric, denom in RATES.items():
        total, n = 0.0, 0
        for s in stats:
            r = getattr(s, metric)
            if r.value is not None and r.posts:
                total += r.value * r.posts
                n += r.posts
        out.append(
            b(
                metric,
                total / n if n else None,
                "ratio",
                stats_service.RATE_METHODS[denom] + f" (pooled over {n} posts)",
            )
        )
    return out


async def baselines(
    session: AsyncSession,
    client_id: int,
    accounts: Sequence[Account],
    start: dt.date,
    end: dt.date,
    network: Network | None = None,
) -> list[Baseline]:
    social_names = {n.value for n in SOCIAL_NETWORKS}
    web_names = {n.value for n in WEB_ANALYTICS}
    social = [a for a in accounts if a.network in social_names]
    web = [a for a in accounts if a.network in web_names]
    if network is not None:
        social = [a for a in social if a.network == network.value]
        web = [a for a in web if a.network == network.value]
    stats = [
        s
        async for s in stats_service.stats_for(
            session, social, start, end, sections=[StatsSection.sources]
        )
    ]
    sources = {s.account_id: s.sources for s in stats}
    by_net: dict[str, list[AccountStats]] = defaultdict(list)
    for s in stats:
        by_net[s.network.value].append(s)
    out: list[Baseline] = []
    if network is None and stats:
        out += _social_baselines(client_id, None, stats, sources, start, end)
    for net, group in sorted(by_net.items()):
        out += _social_baselines(client_id, Network(net), group, sources, start, end)
    for w in web:
        # The comparison window is not needed here: pass the same one.
        site = await website_audit(session, w, start, end, start, end)
        for metric, change, unit, definition in (
            ("sessions", site.sessions, "count", site.definitions["sessions"]),
            (
                "engaged_sessions",
                site.engaged_sessions,
                "count",
                site.definitions["engaged_sessions"],
            ),
            ("conversions", site.conversions, "count", site.definitions["conversions"]),
            ("social_sessions", site.social_sessions, "count", site.definitions["social_sessions"]),
            (
                "social_share_of_sessions",
                site.social_share,
                "ratio",
                site.definitions["social_share"],
            ),
        ):
            out.append(
                Baseline(
                    client_id=client_id,
                    network=Network(w.network),
                    metric=metric,
                    window_start=start,
                    window_end=end,
                    value=change.current,
                    unit=unit,
                    definition=definition,
                    accounts=[w.id or 0],
                    sources=[],
                )
            )
    return out
