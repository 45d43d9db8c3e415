"""Contracts of the ingest service.

The *canonical records* below are what every connector and every importer produces and
what the storage layer loads: one vocabulary whatever the source. Each record carries its
source (provider + API version, or file + row) so any figure can be traced back.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Network(StrEnum):
    facebook = "facebook"
    instagram = "instagram"
    x = "x"
    linkedin = "linkedin"
    youtube = "youtube"
    pinterest = "pinterest"
    tiktok = "tiktok"
    ga4 = "ga4"
    matomo = "matomo"
    plausible = "plausible"


SOCIAL_NETWORKS = (
    Network.facebook,
    Network.instagram,
    Network.x,
    Network.linkedin,
    Network.youtube,
    Network.pinterest,
    Network.tiktok,
)
WEB_ANALYTICS = (Network.ga4, Network.matomo, Network.plausible)


class OwnerKind(StrEnum):
    """Whose space an account is: the client's own, a peer's, or a relay's."""

    client = "client"
    peer = "peer"
    relay = "relay"


class Source(BaseModel):
    """Where a number came from: an API call or a row of an imported file."""

    kind: str = Field(description="'api' or 'file'")
    provider: str = Field(description="e.g. 'facebook_graph', 'x_api', 'meta_business_suite_csv'")
    version: str | None = Field(default=None, description="API version, e.g. 'v23.0'")
    file: str | None = Field(default=None, description="file name (imports)")
    row: int | None = Field(default=None, description="1-based data row in the file")

    def label(self) -> str:
        if self.kind == "file":
            return f"{self.file or '?'} row {self.row or '?'}"
        return f"{self.provider}{' ' + self.version if self.version else ''}"


class AccountRef(BaseModel):
    """Identifies an account inside a batch of records (before it has a database id)."""

    network: Network
    external_id: str = Field(description="the platform's id (page id, channel id, handle…)")
    name: str | None = None
    handle: str | None = None


class DailyMetricRecord(BaseModel):
    """One value of one canonical metric for one account on one day (account's local day)."""

    account: AccountRef
    metric: str = Field(description="canonical metric name from the catalogue")
    day: dt.date
    value: float
    source: Source


class PostRecord(BaseModel):
    """A post (tweet, video, pin, media…) with a dated snapshot of its metrics."""

    account: AccountRef
    external_id: str
    published_at: dt.datetime | None = Field(description="aware UTC when known")
    content_type: str | None = Field(
        default=None,
        description="canonical type: photo, video, reel, carousel, link, text, "
        "story, short, pin, document, event, other",
    )
    format: str | None = Field(default=None, description="the platform's own label, as given")
    text: str | None = None
    permalink: str | None = None
    title: str | None = None
    duration_seconds: float | None = None
    snapshot_date: dt.date = Field(description="the date the metrics below were observed")
    metrics: dict[str, float] = Field(
        default_factory=dict, description="canonical metric -> value; absent means no data"
    )
    source: Source


#: Dimensions of website metrics. ``landing_page`` counts every visit by its first page;
#: ``social_landing_page`` counts only the sessions that social networks brought (the pages
#: they lead to); ``social_network`` groups sessions by the network they came from
#: (canonical network names: facebook, instagram, x…).
WEB_DIMENSIONS = (
    "total",
    "channel_group",
    "source_medium",
    "social_network",
    "landing_page",
    "social_landing_page",
)


class ProfileSnapshot(BaseModel):
    """What a network shows about an account on the day it was observed.

    Used for the client's own accounts (today's follower total where the network keeps no
    history) and for peers' and relays' public profiles. ``metrics`` holds canonical names
    (followers, following, posts_total, lifetime_views, page_likes); a metric the network
    does not show is absent, never zero.
    """

    account: AccountRef
    observed_on: dt.date
    metrics: dict[str, float] = Field(default_factory=dict)
    bio: str | None = None
    url: str | None = None
    source: Source

    def daily_records(self) -> list[DailyMetricRecord]:
        """The snapshot as daily rows for ``observed_on`` (stocks: the day's last value)."""
        return [
            DailyMetricRecord(
                account=self.account,
                metric=name,
                day=self.observed_on,
                value=value,
                source=self.source,
            )
            for name, value in sorted(self.metrics.items())
        ]


class ChannelTotalRecord(BaseModel):
    """A file's 'Total' row: stored as the channel total, never added to the posts."""

    account: AccountRef
    period_start: dt.date | None
    period_end: dt.date | None
    metrics: dict[str, float]
    source: Source


class WebMetricRecord(BaseModel):
    """One website metric for one dimension value, on one day or over one period.

    Daily rows (``period_end`` absent or equal to ``day``) are stored one per (property,
    day, dimension, value, metric). A report that only gives a period aggregate (a GA4 UI
    export without a date dimension, a Matomo range) sets ``period_end``: it is stored as
    a period figure and never spread over, or added to, the days.
    """

    account: AccountRef = Field(description="the web property (ga4, matomo or plausible)")
    day: dt.date = Field(description="the day, or the first day of the period")
    period_end: dt.date | None = Field(
        default=None, description="last day (inclusive) of a period aggregate"
    )
    dimension: str = Field(
        description="one of WEB_DIMENSIONS, or a further breakdown of an export (device, country…)"
    )
    dimension_value: str = Field(description="e.g. 'Organic Social'; '' for the total")
    metric: str = Field(description="canonical metric name from the catalogue")
    value: float
    source: Source


class RetiredMetricNote(BaseModel):
    """A metric the platform retired, met during a sync, and what replaced it."""

    network: Network
    retired: str
    replacement: str | None
    detail: str | None = None


class ImportError_(BaseModel):
    """One reason a file is refused (all of them are returned at once)."""

    row: int | None = Field(description="1-based line in the file (None: the whole file)")
    column: str | None = None
    value: str | None = None
    reason: str


class ImportSummary(BaseModel):
    """What ``balise import --json`` prints and the import API returns."""

    format: str | None
    posts: int = 0
    daily_rows: int = 0
    accounts: int = 0
    errors: list[ImportError_] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Read API contracts (consumed by benchmark, planner and web).


class AccountCreate(BaseModel):
    """Register a space. Benchmark registers peers' and relays' public accounts this way."""

    owner_kind: OwnerKind = OwnerKind.client
    owner_ref: str | None = Field(default=None, max_length=64)
    network: Network
    external_id: str = Field(min_length=1, max_length=200)
    handle: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    timezone: str = Field(default="America/Toronto", max_length=64)


class AccountPublic(BaseModel):
    id: int
    client_id: int | None
    owner_kind: OwnerKind
    owner_ref: str | None
    network: Network
    external_id: str
    handle: str | None
    name: str | None
    url: str | None
    timezone: str
    collection_started_at: dt.datetime
    created_at: dt.datetime
    archived: bool = False


class StatsSection(StrEnum):
    """Optional, heavier parts of :class:`AccountStats` (``StatsQuery.sections``)."""

    content_types = "content_types"
    posting_heatmap = "posting_heatmap"
    engagement_heatmap = "engagement_heatmap"
    sources = "sources"


class StatsQuery(BaseModel):
    """``POST /v1/stats/accounts``: period aggregates of many accounts in one call.

    The answer is streamed: ``{"data": [AccountStats, ...]}`` (:class:`AccountStatsList`)
    by default, or one :class:`AccountStats` JSON object per line when the request says
    ``Accept: application/x-ndjson``. Accounts come back in the order of ``account_ids``
    (duplicates removed). Any id the caller may not see (another tenant's, unknown, or an
    agency relay account for a client viewer) makes the whole call 404.
    ``sections`` trims the heavier parts: ``[]`` gives only the scalar figures and the
    rates (what rescoring 100,000 relays needs); ``None`` (the default) gives everything.
    """

    account_ids: list[int] = Field(min_length=1, max_length=100_000)
    start: dt.date
    end: dt.date = Field(description="inclusive")
    sections: list[StatsSection] | None = Field(
        default=None, description="parts to include besides the figures; None = all"
    )

    def wants(self, section: StatsSection) -> bool:
        return self.sections is None or section in self.sections


class RateStat(BaseModel):
    """An engagement rate with its definition spelled out."""

    value: float | None = Field(description="ratio (0.034 = 3.4 %); None when no data")
    numerator: str = Field(description="e.g. 'engagements per post'")
    denominator: str = Field(description="followers | reach | impressions | views")
    method: str = Field(
        description="e.g. 'median over posts of engagements / followers on the day of posting'"
    )
    posts: int = Field(description="posts that had both numerator and denominator")


class ContentTypeStat(BaseModel):
    """Posts of one content type (``"unknown"`` when the source did not say)."""

    content_type: str
    posts: int
    engagement_rate_by_follower: float | None = Field(
        description="mean over posts of engagements / followers on the day of posting"
    )
    median_engagements: float | None
    engagement_rate_by_reach: float | None = None
    engagement_rate_by_impression: float | None = None
    engagement_rate_by_view: float | None = None


class AccountStats(BaseModel):
    """One account over one period. None always means 'no data', never zero."""

    account_id: int
    network: Network
    start: dt.date
    end: dt.date
    followers_start: float | None
    followers_end: float | None
    follower_growth: float | None = Field(description="followers_end - followers_start")
    follower_growth_pct: float | None = Field(description="ratio of followers_start")
    posts: int
    posts_per_week: float | None
    engagements: float | None
    reach: float | None
    impressions: float | None
    views: float | None
    engagement_rate_by_follower: RateStat
    engagement_rate_by_reach: RateStat
    engagement_rate_by_impression: RateStat
    engagement_rate_by_view: RateStat
    content_types: list[ContentTypeStat] = Field(default_factory=list)
    posting_heatmap: list[list[int]] = Field(
        default_factory=list, description="7 × 24 post counts, Monday first, account's timezone"
    )
    engagement_heatmap: list[list[float | None]] = Field(
        default_factory=list,
        description=(
            "7 × 24 mean engagement rate by follower of the posts published in each slot, "
            "Monday first, account's timezone; None: no post there with both engagements "
            "and followers known"
        ),
    )
    engagement_heatmap_posts: list[list[int]] = Field(
        default_factory=list,
        description="7 × 24 number of posts behind each engagement_heatmap cell",
    )
    sources: list[str] = Field(default_factory=list, description="labels of the data's sources")
    followers_start_day: dt.date | None = Field(
        default=None, description="day of the first followers count in the period"
    )
    followers_end_day: dt.date | None = Field(
        default=None, description="day of the last followers count in the period"
    )
    definitions: dict[str, str] = Field(
        default_factory=dict, description="field name -> how it is computed"
    )


class AccountStatsList(BaseModel):
    """The JSON (non-NDJSON) answer of ``POST /v1/stats/accounts``."""

    data: list[AccountStats]


class MetricPoint(BaseModel):
    day: dt.date
    value: float


class MetricSeries(BaseModel):
    """``GET /v1/accounts/{id}/metrics``: one daily series; days without data are absent."""

    account_id: int
    metric: str
    unit: str
    aggregation: str
    definition: str
    points: list[MetricPoint]


class PostPublic(BaseModel):
    id: int
    account_id: int
    network: Network
    external_id: str
    published_at: dt.datetime | None
    content_type: str | None
    format: str | None
    text: str | None
    permalink: str | None
    metrics: dict[str, float] = Field(description="latest snapshot, canonical names")
    followers_at_post: float | None
    engagement_rate_by_follower: float | None
    source: str | None


class Baseline(BaseModel):
    """A KPI's measured starting point for a plan (default window: the last 90 days)."""

    client_id: int
    network: Network | None
    metric: str = Field(
        description="a canonical metric or a derived KPI such as "
        "'engagement_rate_by_follower', 'posts_per_week', 'follower_growth_pct'"
    )
    window_start: dt.date
    window_end: dt.date
    value: float | None = Field(description="None = no baseline (no data), never zero")
    unit: str
    definition: str
    accounts: list[int] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
