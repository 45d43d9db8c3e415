"""Contract of the audit (step 1): ``GET /v1/clients/{client_id}/audit``.

Produced by ingest, read by web (pages, exports) and by the PDF report. Every figure is
``None`` when there is no data (never zero) and every rate names its denominator.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from shared.schemas.ingest import AccountPublic, AccountStats, MetricPoint, Network

Denominator = Literal["followers", "reach", "impressions", "views"]


class Change(BaseModel):
    """A figure in the period and in the comparison period."""

    current: float | None
    previous: float | None
    delta: float | None = Field(description="current - previous; None unless both exist")
    delta_pct: float | None = Field(description="delta / previous (a ratio)")

    @classmethod
    def of(cls, current: float | None, previous: float | None) -> Change:
        delta = current - previous if current is not None and previous is not None else None
        pct = delta / previous if delta is not None and previous else None
        return cls(current=current, previous=previous, delta=delta, delta_pct=pct)


class PostBrief(BaseModel):
    post_id: int
    account_id: int
    network: Network
    published_local: dt.datetime = Field(description="wall-clock time in the account's zone")
    content_type: str
    format: str | None
    engagements: float | None
    followers_at_post: float | None
    reach: float | None
    impressions: float | None
    views: float | None
    engagement_rate_by_follower: float | None
    permalink: str | None
    excerpt: str | None


class GroupPerformance(BaseModel):
    """Posts of one content type, format, network… with their mean engagement rates."""

    key: str
    posts: int
    engagement_rate_by_follower: float | None
    engagement_rate_by_reach: float | None
    engagement_rate_by_impression: float | None
    rated_posts_by_follower: int = Field(description="posts with engagements and followers")
    mean_engagements: float | None


class Regularity(BaseModel):
    """How steadily the account posts (weeks start on Monday, local days)."""

    weeks: int
    active_weeks: int = Field(description="weeks with at least one post")
    weekly_posts: list[int]
    week_starts: list[dt.date]
    longest_gap_days: int | None = Field(description="longest stretch without a post")
    longest_gap_start: dt.date | None
    longest_gap_end: dt.date | None
    weekly_cv: float | None = Field(description="coefficient of variation of weekly posts")


class AuditAccount(BaseModel):
    account: AccountPublic
    current: AccountStats
    previous: AccountStats
    followers_series: list[MetricPoint]
    top_posts: list[PostBrief]
    bottom_posts: list[PostBrief]
    by_content_type: list[GroupPerformance]
    by_format: list[GroupPerformance]
    regularity: Regularity


class NetworkSummary(BaseModel):
    """The client's accounts of one network, pooled (rates: mean over all their posts)."""

    network: Network
    accounts: int
    followers_end: Change
    follower_growth_pct: Change
    posts: Change
    posts_per_week: Change
    engagements: Change
    reach: Change
    impressions: Change
    views: Change
    engagement_rate_by_follower: Change
    engagement_rate_by_reach: Change
    engagement_rate_by_impression: Change
    rated_posts_by_follower: int = Field(
        default=0, description="posts behind the current engagement rate by follower"
    )


class TrafficSource(BaseModel):
    network: str
    sessions: float
    share_of_social: float | None = Field(description="sessions / all social sessions")
    share_of_total: float | None = Field(description="sessions / all sessions")


class LandingPage(BaseModel):
    page: str
    sessions: float


class WebsiteAudit(BaseModel):
    """One web property (GA4, Matomo, Plausible) over the period."""

    account_id: int
    network: Network
    name: str | None
    sessions: Change
    engaged_sessions: Change
    conversions: Change
    social_sessions: Change
    social_share: Change = Field(description="social sessions / sessions")
    by_network: list[TrafficSource]
    landing_pages: list[LandingPage]
    landing_pages_scope: Literal["social", "all", "none"] = Field(
        description="'social': pages social visits landed on; 'all': only all-traffic "
        "landing pages were collected"
    )
    definitions: dict[str, str]


class FindingParam(BaseModel):
    """A number or word of a finding; ``kind`` says how each locale renders it (``text``
    is translated, ``name`` — an account's name, a page's address — is shown as is)."""

    value: float | int | str | None
    kind: Literal["number", "percent", "ratio", "text", "name", "network", "date", "days"]


class EvidenceLine(BaseModel):
    """One line of a finding's evidence: an English template (a translation msgid) filled
    with ``params``, like the finding's own message."""

    message: str
    params: dict[str, FindingParam] = Field(default_factory=dict)


class Finding(BaseModel):
    """One conclusion with its numbers and evidence, ranked by ``importance``.

    ``message`` is an English template (a translation msgid) filled with ``params``;
    ``text`` is it rendered in English. ``evidence`` is the evidence in English and
    ``evidence_lines`` the same lines as templates, for other locales.
    """

    code: str
    importance: float
    message: str
    params: dict[str, FindingParam]
    text: str
    network: Network | None = None
    account_id: int | None = None
    evidence: list[str] = Field(default_factory=list)
    evidence_lines: list[EvidenceLine] = Field(default_factory=list)
    sample: dict[str, int] = Field(default_factory=dict)


class AuditReport(BaseModel):
    client_id: int
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    compare: Literal["previous", "year"]
    generated_at: dt.datetime
    min_sample: int = Field(description="fewest posts per group for a finding to be claimed")
    accounts: list[AuditAccount]
    networks: list[NetworkSummary]
    posting_heatmap: list[list[int]] = Field(description="7 × 24 posts, Monday first, local")
    heatmap_rate: list[list[float | None]] = Field(
        description="7 × 24 mean engagement rate by follower; None below 3 posts"
    )
    website: list[WebsiteAudit]
    findings: list[Finding]
    definitions: dict[str, str]


class AuditReportRequest(BaseModel):
    """``POST /v1/clients/{client_id}/audit/reports``: render the audit as a PDF (a job)."""

    start: dt.date | None = None
    end: dt.date | None = None
    compare: Literal["previous", "year"] = "previous"
    locale: Literal["fr_CA", "en"] = "fr_CA"
    min_sample: int = Field(default=10, ge=3, le=1000)
