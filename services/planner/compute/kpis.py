"""The KPIs a plan's objectives can measure, and how each one is read.

Every KPI says its unit, whether it is a stock (read at a date: followers), a flow (summed
over a window: reach) or a rate (a ratio over a window: engagement rate, with its
denominator), and which peer distribution of the benchmark a target can be drawn from.
All of them are "more is better": objectives are growth objectives.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.schemas.planner import ObjectiveKind


@dataclass(frozen=True)
class Kpi:
    name: str
    unit: str  # count, ratio, per_week
    nature: str  # stock, flow or rate
    definition: str
    benchmark_kpi: str | None  # the KpiDistribution.kpi that targets come from
    via_growth: bool = False  # target = baseline grown by the peers' growth rate
    web: bool = False  # measured on a web property (ga4, matomo, plausible)


def _k(*args: object, **kw: object) -> Kpi:
    return Kpi(*args, **kw)  # type: ignore[arg-type]


KPIS: dict[str, Kpi] = {
    k.name: k
    for k in (
        _k(
            "followers",
            "count",
            "stock",
            "Followers at the end of the window (page likes or fans where the network counts "
            "those, subscribers on YouTube).",
            "follower_growth_pct",
            via_growth=True,
        ),
        _k(
            "follower_growth_pct",
            "ratio",
            "rate",
            "Net follower growth over the window ÷ followers at its start.",
            "follower_growth_pct",
        ),
        _k(
            "engagement_rate_by_follower",
            "ratio",
            "rate",
            "Median over posts of engagements ÷ followers on the day of posting.",
            "engagement_rate_by_follower",
        ),
        _k(
            "engagement_rate_by_reach",
            "ratio",
            "rate",
            "Median over posts of engagements ÷ reach of the post.",
            "engagement_rate_by_reach",
        ),
        _k(
            "posts_per_week",
            "per_week",
            "rate",
            "Posts published per week over the window.",
            "posts_per_week",
        ),
        _k("reach", "count", "flow", "Reach summed over the window (daily unique).", "reach"),
        _k("impressions", "count", "flow", "Impressions over the window.", "impressions"),
        _k("views", "count", "flow", "Views over the window.", "views"),
        _k("engagements", "count", "flow", "Engagements over the window.", "engagements"),
        _k("shares", "count", "flow", "Shares and reposts over the window.", "shares"),
        _k("link_clicks", "count", "flow", "Clicks on links over the window.", "link_clicks"),
        _k("video_views", "count", "flow", "Video views over the window.", "video_views"),
        _k(
            "sessions",
            "count",
            "flow",
            "Website sessions over the window.",
            None,
            web=True,
        ),
        _k(
            "social_sessions",
            "count",
            "flow",
            "Website sessions brought by social networks over the window.",
            None,
            web=True,
        ),
        _k(
            "conversions",
            "count",
            "flow",
            "Key events / goal completions over the window.",
            None,
            web=True,
        ),
    )
}

#: The KPI proposed first for each kind of objective.
DEFAULT_KPI = {
    ObjectiveKind.awareness: "followers",
    ObjectiveKind.engagement: "engagement_rate_by_follower",
    ObjectiveKind.traffic: "social_sessions",
    ObjectiveKind.conversion: "conversions",
    ObjectiveKind.advocacy: "shares",
}


def get(name: str) -> Kpi:
    """The KPI called ``name``; unknown KPIs are flows of counts read as named."""
    return KPIS.get(name) or Kpi(name, "count", "flow", f"{name} over the window.", name)


def is_ratio(name: str) -> bool:
    return get(name).unit == "ratio"
