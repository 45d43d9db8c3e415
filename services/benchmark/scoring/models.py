"""Tables of scoring: the agency's weights, scoring runs, scores, client themes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class ScoringSettings(SQLModel, table=True):
    """The agency's composite weights and tier scheme (one row: a Balise is one agency)."""

    __tablename__ = "benchmark_scoring_settings"

    id: int = Field(default=1, primary_key=True)
    weights: dict[str, float] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    tier_scheme: str = Field(default="hypeauditor", max_length=40)
    version: int = Field(default=1, description="incremented at every change")
    updated_by: str | None = Field(default=None, max_length=64)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ScoringRun(SQLModel, table=True):
    """One rescoring: the weights it used and when; scores cite their run."""

    __tablename__ = "benchmark_scoring_run"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, index=True, description="relevance computed for")
    settings_version: int
    weights: dict[str, float] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    tier_scheme: str = Field(max_length=40)
    window_start: dt.date
    window_end: dt.date
    relays: int = 0
    data_path: str = Field(default="columns", max_length=16, description="how ingest was read")
    rate_method: str = Field(default="", max_length=300, description="the engagement rate's")
    notes: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    job_id: str | None = Field(default=None, max_length=32)
    started_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None


class RelayScore(SQLModel, table=True):
    """The latest score of a relay (agency-wide components), explained by its components.

    ``components`` holds the compact explanation (see
    :mod:`services.benchmark.scoring.explain`); :func:`explain.expand` with the run makes
    it whole."""

    __tablename__ = "benchmark_relay_score"

    relay_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", primary_key=True)
    run_id: int = Field(foreign_key="benchmark_scoring_run.id", index=True)
    composite: float | None = None
    reach: float | None = None
    resonance: float | None = None
    authenticity: float | None = None
    activity: float | None = None
    components: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    computed_at: dt.datetime = Field(default_factory=utcnow)


class RelayRelevance(SQLModel, table=True):
    """Relevance of a relay to one client's editorial keywords (per client)."""

    __tablename__ = "benchmark_relay_relevance"
    __table_args__ = (UniqueConstraint("client_id", "relay_id", name="uq_benchmark_relevance"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    relay_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", index=True)
    run_id: int | None = Field(default=None, foreign_key="benchmark_scoring_run.id")
    score: float | None = None
    composite: float | None = Field(default=None, description="composite with relevance")
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    computed_at: dt.datetime = Field(default_factory=utcnow)


class ClientThemes(SQLModel, table=True):
    """A client's editorial keywords (French and English) that relevance is measured on."""

    __tablename__ = "benchmark_client_themes"

    client_id: int = Field(primary_key=True)
    keywords: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    updated_at: dt.datetime = Field(default_factory=utcnow)
