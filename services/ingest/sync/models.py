"""``ingest_sync_run``: one sync of one account of a connection over a window of days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Text
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class SyncStatus:
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    rate_limited = "rate_limited"  # rescheduled at resume_at
    quota_exhausted = "quota_exhausted"  # stopped, not retried; can resume at resume_at
    reauth_required = "reauth_required"


class SyncRun(SQLModel, table=True):
    __tablename__ = "ingest_sync_run"
    __table_args__ = (
        Index("ix_ingest_sync_run_connection_started", "connection_id", "started_at"),
        Index("ix_ingest_sync_run_resume", "status", "resume_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    connection_id: int = Field(foreign_key="ingest_connection.id", ondelete="CASCADE")
    account_id: int | None = Field(
        default=None, foreign_key="ingest_account.id", ondelete="SET NULL"
    )
    network: str = Field(max_length=16)
    external_id: str | None = Field(default=None, max_length=200)
    job_id: str | None = Field(default=None, max_length=32, index=True)
    kind: str = Field(max_length=12, description="backfill, daily, manual, resume, webhook")
    window_start: dt.date
    window_end: dt.date
    status: str = Field(default=SyncStatus.running, max_length=20)
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    retired_metrics: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSON, nullable=False
    )
    requests: int = 0
    error: str | None = Field(default=None, sa_type=Text)
    retryable: bool = False
    resume_at: dt.datetime | None = None
    resumed_by_job: str | None = Field(default=None, max_length=32)
    started_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
