"""Contracts of the benchmark service (consumed by planner and web)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from shared.schemas.ingest import Network


class IndustryFigure(BaseModel):
    """A published figure with everything needed to read it fairly."""

    value: float
    unit: str = Field(description="ratio or count")
    source: str
    year: int
    method: str
    denominator: str | None = None


class KpiDistribution(BaseModel):
    """The client against its peer group on one KPI of one network over one period."""

    network: Network
    kpi: str = Field(
        description="e.g. engagement_rate_by_follower, posts_per_week, "
        "follower_growth_pct, followers"
    )
    definition: str
    client_value: float | None
    peer_values: dict[str, float | None] = Field(description="peer name -> value")
    p25: float | None
    p50: float | None
    p75: float | None
    client_percentile: float | None = Field(description="0–100 rank among peers + client")
    peers_with_data: int
    industry: list[IndustryFigure] = Field(default_factory=list)


class BenchmarkResult(BaseModel):
    """A versioned peer benchmark: plans cite ``id`` and ``version``."""

    id: int
    version: int
    client_id: int
    peer_group_id: int
    start: dt.date
    end: dt.date
    computed_at: dt.datetime
    kpis: list[KpiDistribution]


class CoCreatorCandidate(BaseModel):
    relay_id: int
    name: str
    kind: str = Field(description="relay or community_member")
    networks: list[Network]
    composite_score: float | None
    status: str
    reason: str


# ---------------------------------------------------------------------------------------
# Additions (all optional, so existing readers of the contract keep working).


class ContentTypeShare(BaseModel):
    """One content type on one network: how much the client and its peers use it."""

    content_type: str
    client_share: float | None = Field(description="share of the client's posts (ratio)")
    client_engagement_rate: float | None = Field(description="by follower, mean over posts")
    peer_share_median: float | None
    peer_engagement_rate_median: float | None
    peers_using: int


class ContentMix(BaseModel):
    network: Network
    definition: str
    types: list[ContentTypeShare]


class PostingTimes(BaseModel):
    """Posts per weekday × hour (Monday first, each account's own time zone)."""

    network: Network
    client: list[list[int]] = Field(default_factory=list)
    peers: list[list[int]] = Field(default_factory=list, description="summed over peers")
    peers_top_slots: list[str] = Field(default_factory=list, description="e.g. 'Tue 12:00'")


class Breakout(BaseModel):
    """A post far above its own account's median engagement rate."""

    post_id: int
    account_id: int
    owner: str
    network: Network
    published_at: dt.datetime | None
    content_type: str | None
    engagement_rate: float
    account_median: float
    multiple: float
    permalink: str | None = None
    excerpt: str | None = None


class PracticeFinding(BaseModel):
    """A format, time slot, theme or hashtag that does better across peers."""

    dimension: str = Field(description="format, time_slot, theme or hashtag")
    network: Network | None
    value: str
    effect: float = Field(
        description="median relative rate of posts with it ÷ that of posts without it; "
        "a post's relative rate is its engagement rate ÷ its own account's median"
    )
    median_relative_rate: float
    baseline_relative_rate: float
    posts: int
    posts_without: int
    accounts: int
    statement: str


class BestPractices(BaseModel):
    method: str
    breakout_multiple: float
    breakout_rule: str
    breakouts: list[Breakout] = Field(default_factory=list)
    findings: list[PracticeFinding] = Field(default_factory=list)
    min_posts: int
    min_accounts: int
    withheld: list[str] = Field(
        default_factory=list, description="why some claims are not made (sample too small)"
    )
    posts_analysed: int = 0
    accounts_analysed: int = 0


class BenchmarkExtras(BaseModel):
    """What a result carries beyond the KPI table (see :class:`BenchmarkResultFull`)."""

    peer_group_name: str | None = None
    content_mix: list[ContentMix] = Field(default_factory=list)
    posting_times: list[PostingTimes] = Field(default_factory=list)
    best_practices: BestPractices | None = None
    notes: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class BenchmarkResultFull(BenchmarkResult, BenchmarkExtras):
    """A result with its content mix, posting times and best practices."""
