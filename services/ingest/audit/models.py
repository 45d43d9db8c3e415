"""The rendered audit reports (PDF), kept in the database so that any worker can write one
and any API instance can serve it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class AuditReportFile(SQLModel, table=True):
    __tablename__ = "ingest_audit_report"

    job_id: str = Field(primary_key=True, max_length=32)
    client_id: int = Field(index=True)
    locale: str = Field(max_length=10)
    filename: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)
