"""Contracts of the planner service (consumed by web and third-party tools).

A plan belongs to one client and one period and has numbered versions. A version's
content is a :class:`PlanDocument` (audiences, objectives, editorial line, roles, phases);
a version moves draft → approved → active → closed and only a draft can be edited: a
change to an approved plan makes a new draft version. The calendar generated from a
version is the operational schedule and stays editable.

Numbers keep their provenance: a baseline says which window and accounts it measured, a
suggested target says which peer distribution or published figure it came from.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shared.schemas.common import Patch
from shared.schemas.ingest import Network


class PlanStatus(StrEnum):
    draft = "draft"
    approved = "approved"
    active = "active"
    closed = "closed"


class ObjectiveKind(StrEnum):
    awareness = "awareness"
    engagement = "engagement"
    traffic = "traffic"
    conversion = "conversion"
    advocacy = "advocacy"


#: Age bands an audience may target (the reference data maps survey bands onto these).
AGE_BANDS = ("13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")


class BaselineValue(BaseModel):
    """A KPI's measured starting point. ``value`` None means "no baseline" (no data)."""

    value: float | None
    unit: str
    window_start: dt.date
    window_end: dt.date
    definition: str
    accounts: list[int] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    measured_at: dt.datetime | None = None


class TargetSuggestion(BaseModel):
    """A suggested target with its reasoning and the numbers it came from."""

    objective_id: str
    value: float | None = Field(description="None when there is nothing to base it on")
    method: str = Field(
        description="next_quartile, peer_median, industry_reference, hold_top_quartile or none"
    )
    rationale: str
    numbers: dict[str, float | None] = Field(
        default_factory=dict, description="the source numbers: baseline, p25, p50, p75 …"
    )
    sources: list[str] = Field(default_factory=list)
    benchmark_id: int | None = None
    benchmark_version: int | None = None


class Audience(BaseModel):
    """A target audience (public visé)."""

    id: str = ""
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    age_bands: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, max_length=10, description="fr, en …")
    region: str | None = Field(
        default=None, max_length=10, description="QC (Québec), CA (Canada) or US"
    )
    interests: list[str] = Field(default_factory=list)
    networks: list[Network] = Field(
        default_factory=list, description="preferred networks chosen for this audience"
    )

    @field_validator("age_bands")
    @classmethod
    def _bands(cls, v: list[str]) -> list[str]:
        bad = [b for b in v if b not in AGE_BANDS]
        if bad:
            raise ValueError(f"unknown age band(s) {bad}; use {', '.join(AGE_BANDS)}")
        return v


class Objective(BaseModel):
    """A specific, measurable objective of one audience."""

    id: str = ""
    audience_id: str
    kind: ObjectiveKind
    kpi: str = Field(min_length=1, max_length=60, description="a KPI of the KPI catalogue")
    network: Network | None = None
    description: str = Field(default="", max_length=2000)
    baseline: BaselineValue | None = None
    target: float | None = None
    target_source: TargetSuggestion | None = Field(
        default=None, description="the suggestion accepted (None: entered by hand)"
    )
    deadline: dt.date | None = None


class Pillar(BaseModel):
    """A content pillar and its share of the posts (shares of a plan sum to 1)."""

    id: str = ""
    name: str = Field(min_length=1, max_length=200)
    share: float = Field(ge=0, le=1)
    description: str = Field(default="", max_length=2000)


class StyleGuide(BaseModel):
    """Tone and style: voice, do and don't, vocabulary, hashtags, languages."""

    tone: str = Field(default="", max_length=2000)
    voice_attributes: list[str] = Field(default_factory=list)
    do: list[str] = Field(default_factory=list)
    dont: list[str] = Field(default_factory=list)
    vocabulary: list[str] = Field(default_factory=list, description="preferred terms")
    avoid_terms: list[str] = Field(default_factory=list)
    hashtag_policy: str = Field(default="", max_length=2000)
    hashtags: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)


class Animator(BaseModel):
    """A community manager and the hours they give this client each week."""

    id: str = ""
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=300)
    hours_per_week: float = Field(ge=0, le=80)


class Space(BaseModel):
    """One of the client's spaces in the plan: its cadence, formats and animator."""

    id: str = ""
    network: Network
    handle: str | None = Field(default=None, max_length=200)
    animator_id: str | None = None
    posts_per_week: float = Field(default=3, ge=0, le=100)
    minutes_per_post: float = Field(default=45, ge=0, le=1440)
    community_minutes_per_week: float = Field(
        default=60, ge=0, le=5000, description="moderation, replies, monitoring"
    )
    formats: list[str] = Field(default_factory=list)


class CoCreator(BaseModel):
    """A co-creator taken from the benchmark shortlist."""

    id: str = ""
    relay_id: int
    name: str = Field(max_length=300)
    networks: list[Network] = Field(default_factory=list)
    reason: str = Field(default="", max_length=2000)
    role: str = Field(default="", max_length=300)


class GateCondition(BaseModel):
    """A KPI threshold: the objective's measured value must reach ``threshold``."""

    objective_id: str
    threshold: float


class Phase(BaseModel):
    """A rollout phase: its networks and the KPI gate that opens it."""

    id: str = ""
    name: str = Field(min_length=1, max_length=200)
    networks: list[Network] = Field(default_factory=list)
    start: dt.date | None = None
    gate: list[GateCondition] = Field(
        default_factory=list, description="all conditions must be met (empty: open)"
    )
    rationale: str = Field(default="", max_length=4000)


class PlanDocument(BaseModel):
    """The content of one plan version."""

    baseline_window_days: int = Field(default=90, ge=7, le=730)
    timezone: str = Field(default="America/Toronto", max_length=64)
    audiences: list[Audience] = Field(default_factory=list)
    objectives: list[Objective] = Field(default_factory=list)
    pillars: list[Pillar] = Field(default_factory=list)
    style: StyleGuide = Field(default_factory=StyleGuide)
    spaces: list[Space] = Field(default_factory=list)
    animators: list[Animator] = Field(default_factory=list)
    cocreators: list[CoCreator] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)


# ------------------------------------------------------------------------- resources


class PlanCreate(BaseModel):
    client_id: int
    name: str = Field(min_length=1, max_length=200)
    period_start: dt.date
    period_end: dt.date


class PlanUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    period_start: dt.date | None = None
    period_end: dt.date | None = None


class VersionSummary(BaseModel):
    id: int
    number: int
    status: PlanStatus
    created_at: dt.datetime
    approved_at: dt.datetime | None
    activated_at: dt.datetime | None
    closed_at: dt.datetime | None


class PlanPublic(BaseModel):
    id: int
    client_id: int
    name: str
    period_start: dt.date
    period_end: dt.date
    created_at: dt.datetime
    versions: list[VersionSummary] = Field(default_factory=list)


class Warning(BaseModel):
    """Something the plan should fix: ``code`` is stable, ``message`` is English."""

    code: str = Field(description="no_animator, over_capacity, animator_over_capacity, …")
    message: str
    subject: str | None = Field(default=None, description="the item id concerned")
    numbers: dict[str, float] = Field(default_factory=dict)


class Workload(BaseModel):
    """Planned hours per week against the team's hours."""

    spaces: dict[str, float] = Field(description="space id -> hours per week")
    animators: dict[str, float] = Field(description="animator id -> planned hours per week")
    planned_hours: float
    team_hours: float
    unassigned_hours: float


class PlanVersionPublic(BaseModel):
    id: int
    plan_id: int
    client_id: int
    plan_name: str
    period_start: dt.date
    period_end: dt.date
    number: int
    status: PlanStatus
    based_on: int | None
    document: PlanDocument
    created_at: dt.datetime
    created_by: str | None
    approved_at: dt.datetime | None
    approved_by: str | None
    activated_at: dt.datetime | None
    closed_at: dt.datetime | None
    workload: Workload
    warnings: list[Warning] = Field(default_factory=list)


class VersionSettings(BaseModel):
    baseline_window_days: int | None = Field(default=None, ge=7, le=730)
    timezone: str | None = Field(default=None, max_length=64)


# ------------------------------------------------------------------------ suggestions


class NetworkComponent(BaseModel):
    """One component of a network's score for an audience, with its source."""

    name: str = Field(description="audience_use, own_performance, peers, capacity")
    value: float | None = Field(description="0–1; None when there is no data")
    weight: float
    detail: str
    source: str | None = None


class NetworkRecommendation(BaseModel):
    audience_id: str
    network: Network
    score: float | None
    recommended: bool
    components: list[NetworkComponent]
    explanation: str


class PhaseProposal(BaseModel):
    phases: list[Phase]
    rationale: str
    returns: dict[str, float | None] = Field(
        default_factory=dict, description="network -> expected return per hour of effort"
    )


class Suggestions(BaseModel):
    """Everything the builder proposes for a version, composed in one call."""

    version_id: int
    targets: list[TargetSuggestion]
    baselines: dict[str, BaselineValue] = Field(description="objective id -> baseline")
    networks: list[NetworkRecommendation]
    phases: PhaseProposal
    cocreators: list[CoCreator]
    best_slots: dict[str, list[list[int]]] = Field(
        default_factory=dict, description="network -> ranked [weekday (Mon=0), hour] slots"
    )
    best_slots_sources: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "network -> where its slots come from: client (its measured engagement by "
            "slot), client+peers (then its peers' where it has too few posts), peers; a "
            "network missing here has no measured slot and gets the default slots"
        ),
    )
    benchmark: dict[str, Any] | None = Field(
        default=None, description="id, version, period of the benchmark used"
    )
    degraded: list[str] = Field(
        default_factory=list, description="what could not be fetched (service: reason)"
    )


class AcceptSuggestion(BaseModel):
    """Accept a suggestion in one click; ``value`` edits it before accepting (targets)."""

    kind: str = Field(description="target, baseline, networks, phases or cocreator")
    item_id: str | None = Field(default=None, description="objective or audience id")
    value: float | None = None
    relay_id: int | None = None


class FieldChange(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class VersionComparison(BaseModel):
    plan_id: int
    a: int = Field(description="version number")
    b: int
    changes: list[FieldChange]


# ------------------------------------------------------------------------- calendar


class CalendarItemPublic(BaseModel):
    id: int
    version_id: int
    space_id: str | None
    network: Network
    scheduled_at: dt.datetime
    animator_id: str | None
    pillar_id: str | None
    format: str | None
    title: str
    text: str
    link: str | None
    status: str
    generated: bool


class CalendarItemCreate(BaseModel):
    network: Network
    scheduled_at: dt.datetime
    space_id: str | None = None
    animator_id: str | None = None
    pillar_id: str | None = None
    format: str | None = Field(default=None, max_length=40)
    title: str = Field(default="", max_length=300)
    text: str = Field(default="", max_length=5000)
    link: str | None = Field(default=None, max_length=1000)


class CalendarItemUpdate(Patch):
    NOT_NULL = ("scheduled_at", "title", "text", "status")

    scheduled_at: dt.datetime | None = None
    animator_id: str | None = None
    pillar_id: str | None = None
    format: str | None = Field(default=None, max_length=40)
    title: str | None = Field(default=None, max_length=300)
    text: str | None = Field(default=None, max_length=5000)
    link: str | None = Field(default=None, max_length=1000)
    status: str | None = Field(default=None, pattern="^(planned|drafted|scheduled|published)$")


class CalendarGenerate(BaseModel):
    start: dt.date | None = None
    end: dt.date | None = None


class CalendarSummary(BaseModel):
    version_id: int
    items: int
    start: dt.date
    end: dt.date
    per_network: dict[str, int]
    per_pillar: dict[str, int]
    slot_sources: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "network -> where its time slots came from: client, client+peers, peers "
            "(measured engagement by slot) or default (nothing measured: weekday "
            "working-hours slots)"
        ),
    )


class FeedTokenPublic(BaseModel):
    """A per-animator calendar feed; ``token`` is shown once, at creation."""

    plan_id: int
    animator_id: str
    token: str | None = None
    path: str | None = Field(default=None, description="relative URL of the ICS feed")
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


# ---------------------------------------------------------------------- plan vs actual


class KpiStatus(StrEnum):
    on_track = "on_track"
    at_risk = "at_risk"
    off_track = "off_track"
    no_data = "no_data"
    no_target = "no_target"


class KpiPoint(BaseModel):
    day: dt.date
    expected: float | None
    actual: float | None


class KpiProgress(BaseModel):
    objective_id: str
    audience_id: str
    kpi: str
    network: Network | None
    unit: str
    baseline: float | None
    target: float | None
    start: dt.date
    deadline: dt.date
    as_of: dt.date
    expected: float | None
    actual: float | None
    progress: float | None = Field(description="(actual − baseline) ÷ (target − baseline)")
    status: KpiStatus
    explanation: str
    series: list[KpiPoint] = Field(default_factory=list)


class GateStatus(BaseModel):
    phase_id: str
    name: str
    open: bool
    conditions: list[dict[str, Any]]


class PlanProgress(BaseModel):
    version_id: int
    as_of: dt.date
    kpis: list[KpiProgress]
    gates: list[GateStatus]
    degraded: list[str] = Field(default_factory=list)


class ExportRequest(BaseModel):
    format: str = Field(default="pdf", pattern="^(pdf|md|docx)$")
    locale: str = Field(default="fr_CA", pattern="^(fr_CA|en)$")


class ExportPublic(BaseModel):
    id: int
    version_id: int
    format: str
    locale: str
    filename: str
    size: int
    created_at: dt.datetime
