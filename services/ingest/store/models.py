"""Core tables of ingest: every measured number lives here, with its source.

* ``ingest_account``: one space (an account on a network, or a web property) of a client,
  a peer or a relay.
* ``ingest_daily_metric``: one row per (account, metric, day); an upsert may correct it.
* ``ingest_post`` and ``ingest_post_metric``: posts and dated snapshots of their metrics;
  ``ingest_post_metric_latest`` keeps the newest snapshot of each (post, metric) for the
  audit's aggregates.
* ``ingest_web_metric``: website metrics per day and dimension (channel group,
  source/medium, social network, landing page).
* ``ingest_web_period_metric``: website figures known only for a whole period (a GA4 UI
  export without a date dimension), never added to the daily rows.
* ``ingest_channel_total``: a file's "Total" row, stored as the channel's total for the
  period and never added to the posts.
* ``ingest_source``: where numbers came from (an API sync or an imported file); rows
  point at it, with the file row when there is one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Column, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow

# 64-bit ids on PostgreSQL (years of daily rows), SQLite's rowid alias on SQLite.
_BIGID = BigInteger().with_variant(Integer(), "sqlite")


class Account(SQLModel, table=True):
    __tablename__ = "ingest_account"
    __table_args__ = (
        UniqueConstraint("scope_key", "network", "external_id", name="uq_ingest_account_ext"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(
        default=None, index=True, description="tenant; None for the agency-wide relay directory"
    )
    scope_key: str = Field(max_length=24, description="client id, or 'agency' for relays")
    owner_kind: str = Field(max_length=10, description="client, peer or relay")
    owner_ref: str | None = Field(
        default=None, max_length=64, index=True, description="benchmark's peer or relay id"
    )
    network: str = Field(max_length=16, index=True)
    external_id: str = Field(max_length=200)
    handle: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    timezone: str = Field(default="America/Toronto", max_length=64)
    collection_started_at: dt.datetime = Field(default_factory=utcnow)
    created_at: dt.datetime = Field(default_factory=utcnow)
    archived: bool = False


class SourceRecord(SQLModel, table=True):
    __tablename__ = "ingest_source"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=8, description="api or file")
    provider: str = Field(max_length=80)
    version: str | None = Field(default=None, max_length=40)
    file_name: str | None = Field(default=None, max_length=300)
    file_sha256: str | None = Field(default=None, max_length=64, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class DailyMetric(SQLModel, table=True):
    __tablename__ = "ingest_daily_metric"
    __table_args__ = (
        UniqueConstraint("account_id", "metric", "day", name="uq_ingest_daily_metric"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(_BIGID, primary_key=True, autoincrement=True)
    )
    account_id: int = Field(foreign_key="ingest_account.id", ondelete="CASCADE")
    metric: str = Field(max_length=40)
    day: dt.date
    value: float
    source_id: int | None = Field(default=None, foreign_key="ingest_source.id")
    source_row: int | None = None


class Post(SQLModel, table=True):
    __tablename__ = "ingest_post"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id", name="uq_ingest_post_ext"),
        # Covers the period reads of the stats (account, time, type; the id is the rowid
        # on SQLite, a column here for PostgreSQL): no table look-up per post.
        Index(
            "ix_ingest_post_account_published",
            "account_id",
            "published_at",
            "content_type",
            "id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="ingest_account.id", ondelete="CASCADE")
    external_id: str = Field(max_length=200)
    published_at: dt.datetime | None = None
    content_type: str | None = Field(default=None, max_length=20)
    format: str | None = Field(default=None, max_length=80)
    text: str | None = None
    title: str | None = Field(default=None, max_length=500)
    permalink: str | None = Field(default=None, max_length=1000)
    duration_seconds: float | None = None
    source_id: int | None = Field(default=None, foreign_key="ingest_source.id")
    source_row: int | None = None


class PostMetric(SQLModel, table=True):
    __tablename__ = "ingest_post_metric"
    __table_args__ = (
        UniqueConstraint("post_id", "snapshot_date", "metric", name="uq_ingest_post_metric"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(_BIGID, primary_key=True, autoincrement=True)
    )
    post_id: int = Field(foreign_key="ingest_post.id", ondelete="CASCADE")
    snapshot_date: dt.date
    metric: str = Field(max_length=40)
    value: float
    source_id: int | None = Field(default=None, foreign_key="ingest_source.id")
    source_row: int | None = None


class PostMetricLatest(SQLModel, table=True):
    __tablename__ = "ingest_post_metric_latest"
    # The stats join each post to its latest values by (post, metric): on SQLite the rows
    # live in their primary key's b-tree (no rowid), so a look-up is one search, not two.
    __table_args__ = {"sqlite_with_rowid": False}

    post_id: int = Field(foreign_key="ingest_post.id", primary_key=True, ondelete="CASCADE")
    metric: str = Field(max_length=40, primary_key=True)
    snapshot_date: dt.date
    value: float


class WebMetric(SQLModel, table=True):
    __tablename__ = "ingest_web_metric"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "day",
            "dimension",
            "dimension_value",
            "metric",
            name="uq_ingest_web_metric",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="ingest_account.id", ondelete="CASCADE")
    day: dt.date
    dimension: str = Field(
        max_length=30,
        description="total, channel_group, source_medium, social_network or landing_page",
    )
    dimension_value: str = Field(max_length=500)
    metric: str = Field(max_length=40)
    value: float
    source_id: int | None = Field(default=None, foreign_key="ingest_source.id")
    source_row: int | None = None


class WebPeriodMetric(SQLModel, table=True):
    """A website figure known only for a whole period (e.g. a GA4 UI export without a
    date dimension). Kept apart from the daily rows so that it is never summed with them."""

    __tablename__ = "ingest_web_period_metric"
    __table_args__ = (
        UniqueConstraint(
            "account_id",
            "period_start",
            "period_end",
            "dimension",
            "dimension_value",
            "metric",
            name="uq_ingest_web_period_metric",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="ingest_account.id", ondelete="CASCADE")
    period_start: dt.date
    period_end: dt.date
    dimension: str = Field(max_length=30)
    dimension_value: str = Field(max_length=500)
    metric: str = Field(max_length=40)
    value: float
    source_id: int | None = Field(default=None, foreign_key="ingest_source.id")
    source_row: int | None = None


class ChannelTotal(SQLModel, table=True):
    __tablename__ = "ingest_channel_total"
    __table_args__ = (
        UniqueConstraint(
            "account_id", "period_start", "period_end", "metric", name="uq_ingest_channel_total"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="ingest_account.id", ondelete="CASCADE")
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    metric: str = Field(max_length=40)
    value: float
    source_id: int | None = Field(default=None, foreign_key="ingest_source.id")
    source_row: int | None = None


class ClientRevision(SQLModel, table=True):
    """A counter per client, raised in the same transaction as every load of its numbers
    (imports, syncs, pushes): what was computed from a client's data at revision N (an
    audit) is still right while the revision is N."""

    __tablename__ = "ingest_client_revision"
    client_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int = Field(default=0, sa_type=BigInteger)
    changed_at: dt.datetime = Field(default_factory=utcnow)
