"""Where each canonical metric comes from, per network: the source fields and the retired ones.

Field names say where in the provider's answer the number sits, as ``<object>.<path>``:
``page_insights.page_media_view`` is the Graph API Page insight of that name,
``tweet.public_metrics.like_count`` the tweet field, ``analytics.views`` a YouTube
Analytics column. A ``+`` joins the fields a connector adds up, and the note says so.
``api`` names the API and the version the field was checked against (the connectors'
default versions in ``services/ingest/config.py``).

Retired fields stay listed, with what replaced them: a connector that meets one (the
provider answers "invalid metric") drops it, asks for ``replaced_by`` instead and records
a :class:`~shared.schemas.ingest.RetiredMetricNote`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceField:
    network: str
    field: str
    api: str  # e.g. "graph v27.0", "x api v2", "export: meta business suite"
    note: str = ""
    replaced_by: str = ""  # for retired fields: the field that replaces it (same network)


GRAPH = "graph v27.0"
X_API = "x api v2"
LINKEDIN = "linkedin 202608"
YT_DATA = "youtube data v3"
YT_ANALYTICS = "youtube analytics v2"
PINTEREST = "pinterest v5"
GA4 = "ga4 data v1beta"
MATOMO = "matomo 5"
PLAUSIBLE = "plausible stats v2"

_META_RETIRED_2025 = "graph, all versions since 2025-11-15"
_META_RETIRED_2026 = "graph, all versions since 2026-06-15"
_IG_RETIRED = "graph v22.0+, all versions since 2025-04-21"


def _f(network: str, field: str, api: str, note: str = "") -> SourceField:
    return SourceField(network=network, field=field, api=api, note=note)


def _r(network: str, field: str, api: str, replaced_by: str, note: str = "") -> SourceField:
    return SourceField(network=network, field=field, api=api, note=note, replaced_by=replaced_by)


#: metric name -> the fields it is read from.
SOURCES: dict[str, tuple[SourceField, ...]] = {
    "followers": (
        _f("facebook", "page_insights.page_follows", GRAPH, "Page followers at the day's end"),
        _f("facebook", "page.followers_count", GRAPH, "today's total (public Page field)"),
        _f("instagram", "user.followers_count", GRAPH, "today's total (own or Business Discovery)"),
        _f("x", "user.public_metrics.followers_count", X_API, "today's total"),
        _f(
            "linkedin",
            "networkSizes.firstDegreeSize",
            LINKEDIN,
            "today's total, edgeType COMPANY_FOLLOWED_BY_MEMBER",
        ),
        _f(
            "youtube",
            "channel.statistics.subscriberCount",
            YT_DATA,
            "today's total, rounded by YouTube; absent when the channel hides it",
        ),
        _f("pinterest", "user_account.follower_count", PINTEREST, "today's total"),
    ),
    "following": (
        _f("instagram", "user.follows_count", GRAPH),
        _f("x", "user.public_metrics.following_count", X_API),
        _f("pinterest", "user_account.following_count", PINTEREST),
    ),
    "posts_total": (
        _f("instagram", "user.media_count", GRAPH),
        _f("x", "user.public_metrics.tweet_count", X_API, "posts including replies and reposts"),
        _f("youtube", "channel.statistics.videoCount", YT_DATA, "public videos"),
        _f("pinterest", "user_account.pin_count", PINTEREST, "created and saved Pins"),
    ),
    "lifetime_views": (
        _f("youtube", "channel.statistics.viewCount", YT_DATA, "all videos, to date"),
    ),
    "page_likes": (_f("facebook", "page.fan_count", GRAPH, "people who like the Page"),),
    "follows": (
        _f("facebook", "page_insights.page_daily_follows_unique", GRAPH),
        _f(
            "instagram",
            "user_insights.follower_count",
            GRAPH,
            "new followers per day; only the last 30 days; none under 100 followers",
        ),
        _f(
            "linkedin",
            "followerStatistics.followerGains.organicFollowerGain+paidFollowerGain",
            LINKEDIN,
            "organic + paid gains, net of unfollows (can be negative)",
        ),
        _f("youtube", "analytics.subscribersGained", YT_ANALYTICS),
    ),
    "unfollows": (
        _f("facebook", "page_insights.page_daily_unfollows_unique", GRAPH),
        _f("youtube", "analytics.subscribersLost", YT_ANALYTICS),
    ),
    "impressions": (
        _f("facebook", "page_insights.page_impressions", "graph up to 2025-11-15", "retired"),
        _f("facebook", "post_insights.post_impressions", "graph up to 2025-11-15", "retired"),
        _f("instagram", "user_insights.impressions", "graph up to v21.0", "retired"),
        _f("instagram", "media_insights.impressions", "graph up to v21.0", "retired"),
        _f("x", "tweet.public_metrics.impression_count", X_API),
        _f("linkedin", "shareStatistics.impressionCount", LINKEDIN, "organic only"),
        _f("pinterest", "user_account_analytics.IMPRESSION", PINTEREST),
        _f(
            "pinterest",
            "pin_analytics.IMPRESSION",
            PINTEREST,
            "only for Pins created within the 90-day lookback, so the sum is the lifetime",
        ),
    ),
    "views": (
        _f("facebook", "page_insights.page_media_view", GRAPH),
        _f("facebook", "post_insights.post_media_view", GRAPH),
        _f("instagram", "user_insights.views", GRAPH, "metric_type=total_value, one day per call"),
        _f("instagram", "media_insights.views", GRAPH),
        _f("youtube", "analytics.views", YT_ANALYTICS),
        _f("youtube", "video.statistics.viewCount", YT_DATA),
    ),
    "reach": (
        _f("facebook", "page_insights.page_total_media_view_unique", GRAPH),
        _f("facebook", "post_insights.post_total_media_view_unique", GRAPH),
        _f("instagram", "user_insights.reach", GRAPH),
        _f("instagram", "media_insights.reach", GRAPH),
        _f("linkedin", "shareStatistics.uniqueImpressionsCount", LINKEDIN, "lifetime, per post"),
    ),
    "engagements": (
        _f("facebook", "page_insights.page_post_engagements", GRAPH),
        _f(
            "facebook",
            "post.reactions+comments+shares",
            GRAPH,
            "sum of the post's reaction, comment and share totals",
        ),
        _f("instagram", "user_insights.total_interactions", GRAPH),
        _f("instagram", "media_insights.total_interactions", GRAPH),
        _f(
            "instagram",
            "media.like_count+comments_count",
            GRAPH,
            "Business Discovery (peers): likes + comments, the only public counts",
        ),
        _f(
            "x",
            "tweet.public_metrics.like+reply+retweet+quote+bookmark",
            X_API,
            "sum of the five public counts",
        ),
        _f(
            "linkedin",
            "shareStatistics.clickCount+likeCount+commentCount+shareCount",
            LINKEDIN,
            "LinkedIn's own engagement counts clicks",
        ),
        _f(
            "youtube",
            "analytics.likes+comments+shares",
            YT_ANALYTICS,
            "sum of the day's likes, comments and shares",
        ),
        _f("youtube", "video.statistics.likeCount+commentCount", YT_DATA, "likes + comments"),
        _f("pinterest", "user_account_analytics.ENGAGEMENT", PINTEREST),
    ),
    "reactions": (
        _f("facebook", "post.reactions.summary.total_count", GRAPH, "all reaction types"),
        _f("instagram", "user_insights.likes", GRAPH),
        _f("instagram", "media.like_count", GRAPH, "absent when the owner hides likes"),
        _f("x", "tweet.public_metrics.like_count", X_API),
        _f("linkedin", "shareStatistics.likeCount", LINKEDIN),
        _f("youtube", "analytics.likes", YT_ANALYTICS),
        _f("youtube", "video.statistics.likeCount", YT_DATA),
        _f("pinterest", "pin_analytics.TOTAL_REACTIONS", PINTEREST, "lifetime"),
    ),
    "comments": (
        _f("facebook", "post.comments.summary.total_count", GRAPH),
        _f("instagram", "user_insights.comments", GRAPH),
        _f("instagram", "media.comments_count", GRAPH),
        _f("x", "tweet.public_metrics.reply_count", X_API),
        _f("linkedin", "shareStatistics.commentCount", LINKEDIN),
        _f("youtube", "analytics.comments", YT_ANALYTICS),
        _f("youtube", "video.statistics.commentCount", YT_DATA),
        _f("pinterest", "pin_analytics.TOTAL_COMMENTS", PINTEREST, "lifetime"),
    ),
    "shares": (
        _f(
            "facebook",
            "post.shares.count",
            GRAPH,
            "Graph leaves the field out when nobody shared: an answered post without it has 0",
        ),
        _f("instagram", "user_insights.shares", GRAPH),
        _f("instagram", "media_insights.shares", GRAPH),
        _f(
            "x",
            "tweet.public_metrics.retweet_count+quote_count",
            X_API,
            "reposts + quote posts",
        ),
        _f("linkedin", "shareStatistics.shareCount", LINKEDIN),
        _f("youtube", "analytics.shares", YT_ANALYTICS),
    ),
    "saves": (
        _f("instagram", "user_insights.saves", GRAPH),
        _f("instagram", "media_insights.saved", GRAPH),
        _f("x", "tweet.public_metrics.bookmark_count", X_API),
        _f("pinterest", "user_account_analytics.SAVE", PINTEREST),
        _f("pinterest", "pin_analytics.SAVE", PINTEREST, "as pin_analytics.IMPRESSION"),
    ),
    "clicks": (
        _f("facebook", "post_insights.post_clicks", GRAPH),
        _f("linkedin", "shareStatistics.clickCount", LINKEDIN),
        _f("pinterest", "user_account_analytics.PIN_CLICK", PINTEREST),
        _f("pinterest", "pin_analytics.PIN_CLICK", PINTEREST, "as pin_analytics.IMPRESSION"),
    ),
    "link_clicks": (
        _f("pinterest", "user_account_analytics.OUTBOUND_CLICK", PINTEREST),
        _f("pinterest", "pin_analytics.OUTBOUND_CLICK", PINTEREST, "as pin_analytics.IMPRESSION"),
    ),
    "profile_visits": (_f("facebook", "page_insights.page_views_total", GRAPH),),
    "video_views": (
        _f("facebook", "page_insights.page_video_views", GRAPH),
        _f("facebook", "post_insights.post_video_views", GRAPH, "video posts only"),
    ),
    "watch_time_seconds": (
        _f("youtube", "analytics.estimatedMinutesWatched", YT_ANALYTICS, "minutes × 60"),
    ),
    "sessions": (
        _f("ga4", "runReport.sessions", GA4),
        _f("matomo", "VisitsSummary.get.nb_visits", MATOMO),
        _f("matomo", "Referrers.getReferrerType.nb_visits", MATOMO),
        _f("matomo", "Referrers.getSocials.nb_visits", MATOMO),
        _f(
            "matomo",
            "Actions.getEntryPageUrls.entry_nb_visits",
            MATOMO,
            "segment referrerType==social",
        ),
        _f("plausible", "query.visits", PLAUSIBLE),
    ),
    "engaged_sessions": (
        _f("ga4", "runReport.engagedSessions", GA4),
        _f(
            "matomo",
            "VisitsSummary.get.nb_visits-bounce_count",
            MATOMO,
            "visits that did not bounce",
        ),
        _f(
            "matomo",
            "Referrers.getReferrerType.nb_visits-bounce_count",
            MATOMO,
            "visits that did not bounce",
        ),
        _f(
            "matomo",
            "Referrers.getSocials.nb_visits-bounce_count",
            MATOMO,
            "visits that did not bounce",
        ),
        _f(
            "matomo",
            "Actions.getEntryPageUrls.entry_nb_visits-entry_bounce_count",
            MATOMO,
            "entries that did not bounce",
        ),
    ),
    "users": (
        _f("ga4", "runReport.totalUsers", GA4),
        _f("matomo", "VisitsSummary.get.nb_uniq_visitors", MATOMO, "daily unique visitors"),
        _f("plausible", "query.visitors", PLAUSIBLE),
    ),
    "pageviews": (
        _f("ga4", "runReport.screenPageViews", GA4),
        _f("matomo", "Actions.get.nb_pageviews", MATOMO),
        _f("plausible", "query.pageviews", PLAUSIBLE),
    ),
    "conversions": (
        _f("ga4", "runReport.keyEvents", GA4, "key events, called conversions before 2024"),
        _f("ga4", "runReport.conversions", "ga4 data v1beta until 2024", "renamed keyEvents"),
        _f("matomo", "VisitsSummary.get.nb_visits_converted", MATOMO),
        _f("matomo", "Referrers.getReferrerType.nb_visits_converted", MATOMO),
        _f("matomo", "Referrers.getSocials.nb_visits_converted", MATOMO),
    ),
    "bounces": (_f("matomo", "VisitsSummary.get.bounce_count", MATOMO),),
}


#: metric name -> retired fields it stands for now (each names its replacement field).
REPLACES: dict[str, tuple[SourceField, ...]] = {
    "views": (
        _r(
            "facebook",
            "page_insights.page_impressions",
            _META_RETIRED_2025,
            "page_insights.page_media_view",
        ),
        _r(
            "facebook",
            "post_insights.post_impressions",
            _META_RETIRED_2025,
            "post_insights.post_media_view",
        ),
        _r("instagram", "user_insights.impressions", _IG_RETIRED, "user_insights.views"),
        _r("instagram", "media_insights.impressions", _IG_RETIRED, "media_insights.views"),
        _r(
            "instagram",
            "media_insights.plays",
            "graph v25.0+, then all versions",
            "media_insights.views",
        ),
        _r(
            "instagram",
            "media_insights.video_views",
            "graph v21.0+, then all versions",
            "media_insights.views",
        ),
    ),
    "reach": (
        _r(
            "facebook",
            "page_insights.page_impressions_unique",
            _META_RETIRED_2026,
            "page_insights.page_total_media_view_unique",
        ),
        _r(
            "facebook",
            "post_insights.post_impressions_unique",
            _META_RETIRED_2026,
            "post_insights.post_total_media_view_unique",
        ),
    ),
    "followers": (
        _r("facebook", "page_insights.page_fans", _META_RETIRED_2025, "page_insights.page_follows"),
    ),
    "follows": (
        _r(
            "facebook",
            "page_insights.page_fan_adds_unique",
            _META_RETIRED_2025,
            "page_insights.page_daily_follows_unique",
            "Meta names no alternative; the daily follows are the closest current count",
        ),
        _r(
            "facebook",
            "page_insights.page_fan_adds",
            _META_RETIRED_2025,
            "page_insights.page_daily_follows_unique",
            "Meta names no alternative; the daily follows are the closest current count",
        ),
    ),
    "unfollows": (
        _r(
            "facebook",
            "page_insights.page_fan_removes_unique",
            _META_RETIRED_2025,
            "page_insights.page_daily_unfollows_unique",
            "Meta names no alternative; the daily unfollows are the closest current count",
        ),
    ),
    "conversions": (
        _r(
            "ga4",
            "runReport.conversions",
            "ga4 data api, renamed key events in 2024",
            "runReport.keyEvents",
        ),
    ),
    "engagements": (
        _r(
            "instagram",
            "media_insights.engagement",
            "graph v18.0+, then all versions",
            "media_insights.total_interactions",
        ),
    ),
}
