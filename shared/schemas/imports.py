"""Contracts of ingest's imports API (``/v1/imports``, ``/v1/column-mappings``).

Used by the ingest backend and by web's typed client.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.metrics_catalogue import CATALOGUE
from shared.schemas.ingest import ImportError_, Network


class ImportStatus(StrEnum):
    needs_mapping = "needs_mapping"  # unknown layout: waiting for a column mapping
    queued = "queued"
    running = "running"
    succeeded = "succeeded"  # stored, all of it
    refused = "refused"  # bad rows or unreadable: nothing stored, errors say why
    failed = "failed"  # the job itself failed (database down…): nothing stored


FIELD_TARGETS = (
    "date",
    "post_id",
    "published_at",
    "text",
    "title",
    "permalink",
    "content_type",
    "ignore",
)


class ColumnMapping(BaseModel):
    """How to read a file whose layout Balise does not know.

    ``columns`` maps a header name (as the file writes it) to a target: ``date`` (the
    day of a daily row), ``post_id``, ``published_at``, ``text``, ``title``,
    ``permalink``, ``content_type``, ``metric:<canonical name>``, or ``ignore``.
    """

    kind: Literal["daily", "posts"]
    network: Network
    header_row: int = Field(1, ge=1, le=50, description="1-based row of the header")
    columns: dict[str, str]
    date_order: Literal["ymd", "mdy", "dmy"] = "ymd"
    decimal_comma: bool | None = Field(
        None, description="True: 12,5 is twelve and a half; None: decided per cell"
    )

    @field_validator("columns")
    @classmethod
    def _targets(cls, v: dict[str, str]) -> dict[str, str]:
        for name, target in v.items():
            if target.startswith("metric:"):
                if target[7:] not in CATALOGUE:
                    raise ValueError(f"{name}: {target[7:]!r} is not a canonical metric")
            elif target not in FIELD_TARGETS:
                raise ValueError(f"{name}: unknown target {target!r}")
        return v

    @model_validator(mode="after")
    def _complete(self) -> ColumnMapping:
        targets = list(self.columns.values())
        if not any(t.startswith("metric:") for t in targets):
            raise ValueError("map at least one column to a metric")
        needed = "date" if self.kind == "daily" else "post_id"
        if needed not in targets:
            raise ValueError(f"a {self.kind} mapping needs a column mapped to {needed}")
        for t in set(targets) - {"ignore"}:
            if not t.startswith("metric:") and targets.count(t) > 1:
                raise ValueError(f"two columns are mapped to {t}")
        return self


class ImportPublic(BaseModel):
    """An import of one file, with its outcome."""

    id: int
    client_id: int
    file_name: str
    sha256: str
    size: int
    format: str | None = Field(description="detected or chosen format; None before mapping")
    status: ImportStatus
    account_id: int | None
    job_id: str | None
    counts: dict[str, Any] = Field(default_factory=dict)
    posts: int = 0
    daily_rows: int = 0
    accounts: int = 0
    errors: list[ImportError_] = Field(default_factory=list)
    errors_total: int = 0
    snapshot_date: dt.date | None = None
    created_at: dt.datetime
    finished_at: dt.datetime | None = None


class ImportPreview(BaseModel):
    """The first rows of a file, for the column-mapping step."""

    import_id: int
    sheet: str
    rows: list[list[str]] = Field(description="first rows as text, top of the file first")
    header_row: int = Field(description="1-based row that looks like the header")
    columns: list[str]
    suggested: ColumnMapping | None = None
    suggested_columns: dict[str, str] = Field(default_factory=dict)
    metrics: list[str] = Field(default_factory=list, description="canonical metric names")


class MappingSubmit(BaseModel):
    mapping: ColumnMapping
    save: bool = Field(True, description="apply this mapping to the next file of this layout")
    name: str | None = Field(default=None, max_length=200)


class ColumnMappingPublic(BaseModel):
    id: int
    client_id: int
    name: str
    header: list[str]
    mapping: ColumnMapping
    created_at: dt.datetime


class FormatPublic(BaseModel):
    name: str
    label: str
    network: Network
