"""How each network behaves in the demo: content kinds, metrics, lifetimes, good hours.

These are the demo's modelling choices (the published rates they are scaled to live in
``data/reference.json``). ``er`` multipliers make some formats and time slots perform
better than others, so that the audit and the benchmark have something true to find.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.demo.timeline import hours


@dataclass(frozen=True)
class ContentKind:
    content_type: str  # canonical (schemas.ingest.PostRecord.content_type)
    format: str  # the platform's own label
    weight: float  # share of an account's posts
    er: float  # engagement-rate multiplier of this kind
    video_seconds: tuple[int, int] | None = None  # duration range for videos


@dataclass(frozen=True)
class NetworkProfile:
    network: str
    provider: str  # what a real sync would name (prefixed "demo_" in the sources)
    api_version: str
    kinds: tuple[ContentKind, ...]
    components: dict[str, float]  # engagement components and their shares
    exposure: str  # "views" or "impressions": what the network counts per post
    reach_ratio: float | None  # unique reach per exposure (None: not reported)
    public: frozenset[str]  # per-post metrics other accounts can see
    tau_days: float  # how fast a post's activity decays (mean life in days)
    daily: tuple[str, ...]  # account-level daily flows the API reports
    follows: bool  # the API reports daily new followers
    unfollows: bool  # … and daily lost followers
    post_weekdays: list[float]  # when a typical organisation posts, Monday first
    post_hours: list[float]  # … local hour
    good_weekdays: list[float]  # engagement multiplier per weekday
    good_hours: list[float]  # engagement multiplier per local hour
    clicks_per_exposure: dict[str, float] = field(default_factory=dict)
    url: str = ""
    shows_following: bool = False  # the public profile shows how many accounts it follows

    def kind_weights(self) -> list[float]:
        return [k.weight for k in self.kinds]

    def share_by(self, days_after: int) -> float:
        """Share of a post's 90-day totals reached ``days_after`` days after publication."""
        if days_after < 0:
            return 0.0
        days_after = min(days_after, LIFETIME_DAYS - 1)
        return (1 - math.exp(-(days_after + 1) / self.tau_days)) / (
            1 - math.exp(-LIFETIME_DAYS / self.tau_days)
        )


LIFETIME_DAYS = 90
OFFICE = [1.0, 1.15, 1.2, 1.15, 1.0, 0.35, 0.25]  # agencies post on weekdays
LEISURE = [0.9, 0.9, 0.95, 1.0, 1.1, 1.2, 1.15]  # travellers read at the weekend
BUSINESS = [0.9, 1.15, 1.2, 1.15, 0.9, 0.55, 0.5]

PROFILES: dict[str, NetworkProfile] = {
    p.network: p
    for p in (
        NetworkProfile(
            network="facebook",
            provider="facebook_graph",
            api_version="v23.0",
            kinds=(
                ContentKind("photo", "photo", 0.36, 1.0),
                ContentKind("carousel", "album", 0.12, 1.25),
                ContentKind("video", "video_inline", 0.10, 1.2, (30, 240)),
                ContentKind("reel", "reel", 0.12, 1.45, (10, 60)),
                ContentKind("link", "share", 0.22, 0.55),
                ContentKind("event", "event", 0.05, 0.9),
                ContentKind("text", "status", 0.03, 0.7),
            ),
            components={"reactions": 0.80, "comments": 0.07, "shares": 0.13},
            exposure="views",
            reach_ratio=0.78,
            public=frozenset({"reactions", "comments", "shares"}),
            tau_days=0.9,
            daily=(
                "views",
                "reach",
                "engagements",
                "reactions",
                "comments",
                "shares",
                "video_views",
                "profile_visits",
            ),
            follows=True,
            unfollows=True,
            post_weekdays=OFFICE,
            post_hours=hours((8, 9, 1.0), (10, 15, 1.6), (16, 17, 0.8), (19, 20, 0.5)),
            good_weekdays=LEISURE,
            good_hours=hours((6, 8, 1.1), (9, 16, 0.9), (17, 18, 1.05), (19, 21, 1.3), base=0.8),
            clicks_per_exposure={"clicks": 0.018},
            url="https://www.facebook.com/{handle}",
        ),
        NetworkProfile(
            network="instagram",
            provider="instagram_graph",
            api_version="v23.0",
            kinds=(
                ContentKind("photo", "IMAGE", 0.38, 1.0),
                ContentKind("carousel", "CAROUSEL_ALBUM", 0.27, 1.35),
                ContentKind("reel", "REELS", 0.35, 1.2, (8, 90)),
            ),
            components={"reactions": 0.86, "comments": 0.04, "shares": 0.04, "saves": 0.06},
            exposure="views",
            reach_ratio=0.62,
            public=frozenset({"reactions", "comments"}),
            tau_days=1.3,
            daily=(
                "views",
                "reach",
                "engagements",
                "reactions",
                "comments",
                "shares",
                "saves",
                "profile_visits",
                "link_clicks",
            ),
            follows=True,
            unfollows=False,
            post_weekdays=[0.9, 1.1, 1.1, 1.1, 1.2, 0.7, 0.6],
            post_hours=hours((7, 8, 0.8), (9, 13, 1.3), (14, 17, 1.0), (18, 21, 0.9)),
            good_weekdays=LEISURE,
            good_hours=hours((7, 9, 1.05), (10, 16, 0.9), (17, 18, 1.1), (19, 22, 1.3), base=0.8),
            url="https://www.instagram.com/{handle}/",
            shows_following=True,
        ),
        NetworkProfile(
            network="x",
            provider="x_api",
            api_version="2",
            kinds=(
                ContentKind("text", "text", 0.30, 0.8),
                ContentKind("photo", "photo", 0.35, 1.2),
                ContentKind("link", "link", 0.28, 0.9),
                ContentKind("video", "video", 0.07, 1.3, (10, 120)),
            ),
            components={"reactions": 0.62, "shares": 0.22, "comments": 0.08, "saves": 0.08},
            exposure="impressions",
            reach_ratio=None,
            public=frozenset({"reactions", "shares", "comments", "saves", "impressions"}),
            tau_days=0.35,
            daily=(),
            follows=False,
            unfollows=False,
            post_weekdays=OFFICE,
            post_hours=hours((7, 9, 1.2), (10, 12, 1.4), (13, 16, 1.0), (17, 18, 0.6)),
            good_weekdays=[1.05, 1.1, 1.1, 1.05, 1.0, 0.85, 0.8],
            good_hours=hours((6, 9, 1.25), (10, 13, 1.05), (14, 18, 0.95), base=0.8),
            clicks_per_exposure={"link_clicks": 0.006},
            url="https://x.com/{handle}",
            shows_following=True,
        ),
        NetworkProfile(
            network="linkedin",
            provider="linkedin_api",
            api_version="202510",
            kinds=(
                ContentKind("photo", "IMAGE", 0.42, 1.0),
                ContentKind("link", "ARTICLE", 0.26, 0.7),
                ContentKind("document", "DOCUMENT", 0.10, 1.7),
                ContentKind("video", "VIDEO", 0.12, 1.35, (30, 180)),
                ContentKind("carousel", "MULTI_IMAGE", 0.06, 1.2),
                ContentKind("text", "NONE", 0.04, 0.85),
            ),
            components={"reactions": 0.84, "comments": 0.08, "shares": 0.08},
            exposure="impressions",
            reach_ratio=0.66,
            public=frozenset({"reactions", "comments"}),
            tau_days=1.6,
            daily=(
                "impressions",
                "reach",
                "clicks",
                "engagements",
                "reactions",
                "comments",
                "shares",
                "profile_visits",
            ),
            follows=True,
            unfollows=False,
            post_weekdays=[1.0, 1.2, 1.25, 1.2, 0.9, 0.12, 0.08],
            post_hours=hours((8, 11, 1.5), (12, 15, 1.0), (16, 17, 0.5)),
            good_weekdays=BUSINESS,
            good_hours=hours((7, 10, 1.25), (11, 14, 1.0), (15, 17, 0.9), base=0.7),
            clicks_per_exposure={"clicks": 0.011},
            url="https://www.linkedin.com/company/{handle}/",
        ),
        NetworkProfile(
            network="youtube",
            provider="youtube_analytics",
            api_version="v2",
            kinds=(
                ContentKind("video", "VIDEO", 0.55, 1.0, (120, 900)),
                ContentKind("short", "SHORTS", 0.45, 1.3, (15, 60)),
            ),
            components={"reactions": 0.86, "comments": 0.09, "shares": 0.05},
            exposure="views",
            reach_ratio=None,
            public=frozenset({"views", "reactions", "comments"}),
            tau_days=18.0,
            daily=("views", "watch_time_seconds", "engagements", "reactions", "comments", "shares"),
            follows=True,
            unfollows=True,
            post_weekdays=[0.6, 0.8, 1.0, 1.4, 1.5, 0.6, 0.4],
            post_hours=hours((10, 12, 1.0), (13, 17, 1.4)),
            good_weekdays=[0.95, 0.95, 1.0, 1.05, 1.1, 1.05, 1.0],
            good_hours=hours((15, 19, 1.15), base=0.95),
            url="https://www.youtube.com/@{handle}",
        ),
        NetworkProfile(
            network="pinterest",
            provider="pinterest_api",
            api_version="v5",
            kinds=(
                ContentKind("pin", "image", 0.72, 1.0),
                ContentKind("video", "video", 0.14, 1.15, (6, 45)),
                ContentKind("carousel", "multiple_images", 0.14, 1.2),
            ),
            components={"saves": 0.82, "reactions": 0.13, "comments": 0.05},
            exposure="impressions",
            reach_ratio=None,
            public=frozenset({"saves"}),
            tau_days=40.0,
            daily=("impressions", "engagements", "saves", "clicks", "link_clicks"),
            follows=False,
            unfollows=False,
            post_weekdays=[1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.7],
            post_hours=hours((9, 16, 1.0), (20, 22, 0.4)),
            good_weekdays=[0.95, 0.95, 0.95, 1.0, 1.0, 1.1, 1.15],
            good_hours=hours((19, 23, 1.2), base=0.95),
            clicks_per_exposure={"clicks": 0.012, "link_clicks": 0.004},
            url="https://www.pinterest.ca/{handle}/",
            shows_following=True,
        ),
        NetworkProfile(
            network="tiktok",
            provider="tiktok_api",
            api_version="v2",
            kinds=(ContentKind("video", "VIDEO", 1.0, 1.0, (8, 90)),),
            components={"reactions": 0.84, "comments": 0.05, "shares": 0.06, "saves": 0.05},
            exposure="views",
            reach_ratio=None,
            public=frozenset({"views", "reactions", "comments", "shares", "saves"}),
            tau_days=2.5,
            daily=(),
            follows=False,
            unfollows=False,
            post_weekdays=LEISURE,
            post_hours=hours((11, 13, 1.0), (17, 22, 1.5)),
            good_weekdays=LEISURE,
            good_hours=hours((18, 22, 1.2), base=0.9),
            url="https://www.tiktok.com/@{handle}",
            shows_following=True,
        ),
    )
}

CLIENT_NETWORKS = ("facebook", "instagram", "x", "linkedin", "youtube", "pinterest")
