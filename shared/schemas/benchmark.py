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
