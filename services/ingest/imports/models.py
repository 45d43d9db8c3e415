"""Tables of the imports domain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class Import(SQLModel, table=True):
    """One uploaded (or CLI-imported) file and what became of it."""

    __tablename__ = "ingest_import"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    file_name: str = Field(max_length=300)
    sha256: str = Field(max_length=64, index=True)
    size: int = 0
    format: str | None = Field(default=None, max_length=60)
    status: str = Field(max_length=16, index=True)
    account_id: int | None = Field(
        default=None, foreign_key="ingest_account.id", ondelete="SET NULL"
    )
    mapping_id: int | None = Field(
        default=None, foreign_key="ingest_column_mapping.id", ondelete="SET NULL"
    )
    mapping: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    job_id: str | None = Field(default=None, max_length=32)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    errors_total: int = 0
    snapshot_date: dt.date | None = None
    stored_path: str | None = Field(
        default=None, max_length=500, description="the upload under var/ until the job ran"
    )
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None


class ColumnMappingRow(SQLModel, table=True):
    """A column mapping saved by a client for files with one header."""

    __tablename__ = "ingest_column_mapping"
    __table_args__ = (
        UniqueConstraint("client_id", "header_signature", name="uq_ingest_column_mapping"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    name: str = Field(max_length=200)
    header_signature: str = Field(max_length=64)
    header: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    mapping: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
