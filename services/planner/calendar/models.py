"""Tables of the calendar: its items and the per-animator ICS feed tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class CalendarItem(SQLModel, table=True):
    __tablename__ = "planner_calendar_item"
    __table_args__ = (Index("ix_planner_calendar_version_at", "version_id", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="planner_plan_version.id", ondelete="CASCADE")
    client_id: int = Field(index=True)
    space_id: str | None = Field(default=None, max_length=40)
    network: str = Field(max_length=16)
    scheduled_at: dt.datetime
    animator_id: str | None = Field(default=None, max_length=40, index=True)
    pillar_id: str | None = Field(default=None, max_length=40)
    format: str | None = Field(default=None, max_length=40)
    title: str = Field(default="", max_length=300)
    text: str = Field(default="", sa_type=Text)
    link: str | None = Field(default=None, max_length=1000)
    status: str = Field(default="planned", max_length=12)
    generated: bool = True
    updated_at: dt.datetime = Field(default_factory=utcnow)


class FeedToken(SQLModel, table=True):
    """An animator's ICS feed: only the SHA-256 of the token is kept."""

    __tablename__ = "planner_feed_token"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="planner_plan.id", ondelete="CASCADE", index=True)
    client_id: int = Field(index=True)
    animator_id: str = Field(max_length=40)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    revoked_at: dt.datetime | None = None
