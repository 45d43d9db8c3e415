"""Tables of plan-versus-actual tracking and of rendered exports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class KpiState(SQLModel, table=True):
    """The last judged status of each objective, so an alert fires on a change only."""

    __tablename__ = "planner_kpi_state"
    __table_args__ = (UniqueConstraint("version_id", "objective_id", name="uq_planner_kpi_state"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="planner_plan_version.id", ondelete="CASCADE")
    client_id: int = Field(index=True)
    objective_id: str = Field(max_length=40)
    status: str = Field(max_length=12)
    actual: float | None = None
    expected: float | None = None
    checked_at: dt.datetime = Field(default_factory=utcnow)


class PlanExport(SQLModel, table=True):
    """A rendered export (PDF, Markdown, DOCX) of one version."""

    __tablename__ = "planner_export"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="planner_plan_version.id", ondelete="CASCADE")
    client_id: int = Field(index=True)
    format: str = Field(max_length=8)
    locale: str = Field(max_length=8)
    filename: str = Field(max_length=200)
    content: bytes = Field(sa_type=LargeBinary)
    created_at: dt.datetime = Field(default_factory=utcnow)
