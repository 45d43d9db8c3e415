"""The metric catalogue: one canonical vocabulary across networks.

Each metric has a unit, an aggregation over days (``sum``, ``last`` or ``mean``), a
definition, its source field per network and API version, and the retired names it
replaces. Connectors and importers map their fields through this catalogue; the audit,
benchmark and planner read only canonical names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from shared.metrics_sources import REPLACES, SOURCES, SourceField

__all__ = [
    "CATALOGUE",
    "Aggregation",
    "Metric",
    "SourceField",
    "field_map",
    "get",
    "metric_for",
    "retired_field",
]


class Aggregation(StrEnum):
    sum = "sum"  # flows: impressions, engagements, sessions
    last = "last"  # stocks: followers
    mean = "mean"  # rates and averages


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # count, seconds, ratio, currency
    aggregation: Aggregation
    definition: str
    sources: tuple[SourceField, ...] = ()
    replaces: tuple[SourceField, ...] = field(default=())  # retired fields it stands for
    level: str = "both"  # account, post or both


def _m(name: str, unit: str, agg: Aggregation, definition: str, level: str = "both") -> Metric:
    return Metric(name=name, unit=unit, aggregation=agg, definition=definition, level=level)


CATALOGUE: dict[str, Metric] = {
    m.name: m
    for m in (
        _m(
            "followers",
            "count",
            Aggregation.last,
            "People following the account at the end of the day (subscribers on YouTube; "
            "Facebook Page followers, Page likes are page_likes).",
            "account",
        ),
        _m("follows", "count", Aggregation.sum, "New followers gained during the day."),
        _m("unfollows", "count", Aggregation.sum, "Followers lost during the day.", "account"),
        _m(
            "impressions",
            "count",
            Aggregation.sum,
            "Times content was shown (legacy: Meta retired it for views in 2025–26).",
        ),
        _m(
            "views",
            "count",
            Aggregation.sum,
            "Times content was viewed or shown, per the network's current definition "
            "(Meta media views, Instagram views, YouTube views); X, LinkedIn and Pinterest "
            "impressions stay under impressions.",
        ),
        _m(
            "reach",
            "count",
            Aggregation.sum,
            "Unique people who saw content (daily unique; not additive across days for "
            "deduplication, summed only as an upper bound).",
        ),
        _m(
            "engagements",
            "count",
            Aggregation.sum,
            "Interactions: reactions/likes + comments + shares/reposts + saves (+ clicks "
            "where the network counts them, stated per source).",
        ),
        _m("reactions", "count", Aggregation.sum, "Reactions or likes."),
        _m("comments", "count", Aggregation.sum, "Comments or replies."),
        _m("shares", "count", Aggregation.sum, "Shares, reposts, retweets."),
        _m("saves", "count", Aggregation.sum, "Saves or bookmarks."),
        _m("clicks", "count", Aggregation.sum, "Clicks on the content or its links."),
        _m("link_clicks", "count", Aggregation.sum, "Clicks on links to other sites."),
        _m("profile_visits", "count", Aggregation.sum, "Visits to the profile or page."),
        _m("video_views", "count", Aggregation.sum, "Video views as the network counts them."),
        _m("watch_time_seconds", "seconds", Aggregation.sum, "Time spent watching videos."),
        _m("sessions", "count", Aggregation.sum, "Website sessions (visits)."),
        _m(
            "engaged_sessions",
            "count",
            Aggregation.sum,
            "Sessions that lasted 10 s+, had a key event or 2+ page views (GA4 definition); "
            "Matomo/Plausible: visits that did not bounce.",
        ),
        _m("users", "count", Aggregation.sum, "Website visitors (daily unique)."),
        _m("pageviews", "count", Aggregation.sum, "Website page views."),
        _m(
            "conversions",
            "count",
            Aggregation.sum,
            "Key events (GA4, formerly conversions), converted visits (Matomo), goal "
            "completions (Plausible).",
        ),
        _m("bounces", "count", Aggregation.sum, "Single-page sessions."),
        _m("revenue", "currency", Aggregation.sum, "Revenue attributed to the sessions."),
        _m(
            "following",
            "count",
            Aggregation.last,
            "Accounts this account follows (the follower/following ratio of relays).",
            "account",
        ),
        _m(
            "posts_total",
            "count",
            Aggregation.last,
            "Posts the network counts on the profile to date, as the network counts them.",
            "account",
        ),
        _m(
            "lifetime_views",
            "count",
            Aggregation.last,
            "Views of all the account's content to date (YouTube channel view count).",
            "account",
        ),
        _m(
            "page_likes",
            "count",
            Aggregation.last,
            "People who like a Facebook Page (its fan count); followers are counted apart.",
            "account",
        ),
    )
}

# Attach each metric's source fields and the retired fields it replaces.
CATALOGUE = {
    name: replace(m, sources=SOURCES.get(name, ()), replaces=REPLACES.get(name, ()))
    for name, m in CATALOGUE.items()
}


def get(name: str) -> Metric:
    try:
        return CATALOGUE[name]
    except KeyError as exc:
        raise KeyError(f"{name!r} is not in the metric catalogue") from exc


def field_map(network: str) -> dict[str, str]:
    """Source field -> canonical metric for one network (the connectors' translation)."""
    out: dict[str, str] = {}
    for metric in CATALOGUE.values():
        for src in metric.sources:
            if src.network == network:
                out[src.field] = metric.name
    return out


def metric_for(network: str, field_name: str) -> str:
    """The canonical metric a network's source field feeds; KeyError when unmapped."""
    try:
        return field_map(network)[field_name]
    except KeyError as exc:
        raise KeyError(f"{network} field {field_name!r} is not in the metric catalogue") from exc


def retired_field(network: str, field_name: str) -> SourceField | None:
    """The catalogue's record of a retired field (with ``replaced_by``), if it is one."""
    for metric in CATALOGUE.values():
        for src in metric.replaces:
            if src.network == network and src.field == field_name:
                return src
    return None
