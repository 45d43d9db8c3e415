"""Tables of plans and their versions.

* ``planner_plan``: one plan of one client for one period.
* ``planner_plan_version``: a numbered version whose content is a validated
  :class:`shared.schemas.planner.PlanDocument` (JSON). A version is edited only while it is
  a draft; approving it freezes it, so what was approved can always be shown as it was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class Plan(SQLModel, table=True):
    __tablename__ = "planner_plan"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    name: str = Field(max_length=200)
    period_start: dt.date
    period_end: dt.date
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


class PlanVersion(SQLModel, table=True):
    __tablename__ = "planner_plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_planner_version_number"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="planner_plan.id", ondelete="CASCADE", index=True)
    client_id: int = Field(index=True, description="copied from the plan for scoping")
    number: int
    status: str = Field(default="draft", max_length=12, index=True)
    based_on: int | None = Field(default=None, description="number of the version copied")
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    approved_at: dt.datetime | None = None
    approved_by: str | None = Field(default=None, max_length=64)
    activated_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
