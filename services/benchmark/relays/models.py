"""Tables of the relay directory (agency-wide) and of the per-client shortlists."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class RelayKind(StrEnum):
    person = "person"
    creator = "creator"
    media = "media"
    association = "association"
    institution = "institution"
    organisation = "organisation"


class RelationshipStatus(StrEnum):
    to_contact = "to_contact"
    contacted = "contacted"
    relayed = "relayed"
    partner = "partner"
    co_creator = "co_creator"
    declined = "declined"


class Relay(SQLModel, table=True):
    """A person or organisation likely to relay clients' messages (agency-wide)."""

    __tablename__ = "benchmark_relay"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(
        default_factory=lambda: uuid.uuid4().hex,
        max_length=32,
        unique=True,
        description="the owner reference ingest knows this relay by (set before insert)",
    )
    name: str = Field(max_length=200, index=True)
    kind: str = Field(default=RelayKind.person, max_length=20)
    language: str | None = Field(default=None, max_length=8, description="fr, en, fr-en…")
    region: str | None = Field(default=None, max_length=120, index=True)
    bio: str | None = Field(default=None, max_length=5000)
    status: str = Field(default=RelationshipStatus.to_contact, max_length=20, index=True)
    notes: str | None = Field(default=None, max_length=20000)
    email: str | None = Field(default=None, max_length=300)
    aliases: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    # Cached from the latest scoring run so the directory can filter and sort without
    # asking ingest on every page; the run that produced them is ``scored_run_id``.
    followers: float | None = Field(default=None, index=True)
    tier: str | None = Field(default=None, max_length=10, index=True)
    composite: float | None = Field(default=None, index=True)
    scored_run_id: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class RelayTopic(SQLModel, table=True):
    __tablename__ = "benchmark_relay_topic"

    relay_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", primary_key=True)
    topic: str = Field(max_length=80, primary_key=True, index=True)


class RelayAccount(SQLModel, table=True):
    """A relay's account on one network; ingest collects its public data (agency scope)."""

    __tablename__ = "benchmark_relay_account"
    __table_args__ = (
        UniqueConstraint("network", "handle_key", name="uq_benchmark_relay_account_handle"),
    )

    id: int | None = Field(default=None, primary_key=True)
    relay_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", index=True)
    network: str = Field(max_length=16, index=True)
    handle: str = Field(max_length=200)
    handle_key: str = Field(max_length=200, description="handle normalised for matching")
    external_id: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=1000)
    ingest_account_id: int | None = Field(default=None, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class RelayHistory(SQLModel, table=True):
    """A time the relay relayed a client's post, with the measured amplification."""

    __tablename__ = "benchmark_relay_history"

    id: int | None = Field(default=None, primary_key=True)
    relay_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", index=True)
    client_id: int = Field(index=True)
    client_post_id: int | None = Field(default=None, description="ingest post id")
    client_post_url: str | None = Field(default=None, max_length=1000)
    relay_post_url: str | None = Field(default=None, max_length=1000)
    relayed_on: dt.date
    network: str | None = Field(default=None, max_length=16)
    # Amplification = engagements (or views) the relay's post brought, with the measure
    # stated; None when not measured.
    amplification: float | None = None
    amplification_metric: str | None = Field(default=None, max_length=40)
    amplification_source: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=2000)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Shortlist(SQLModel, table=True):
    __tablename__ = "benchmark_shortlist"
    __table_args__ = (UniqueConstraint("client_id", "relay_id", name="uq_benchmark_shortlist"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    relay_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", index=True)
    note: str | None = Field(default=None, max_length=2000)
    added_by: str | None = Field(default=None, max_length=64)
    added_at: dt.datetime = Field(default_factory=utcnow)


class DuplicateDismissal(SQLModel, table=True):
    """Two relays someone confirmed are *not* the same (never proposed again)."""

    __tablename__ = "benchmark_duplicate_dismissal"

    low_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", primary_key=True)
    high_id: int = Field(foreign_key="benchmark_relay.id", ondelete="CASCADE", primary_key=True)
    dismissed_at: dt.datetime = Field(default_factory=utcnow)


class RelayMerge(SQLModel, table=True):
    """A confirmed merge, kept so the directory's history explains vanished ids."""

    __tablename__ = "benchmark_relay_merge"
    __table_args__ = (Index("ix_benchmark_relay_merge_into", "merged_into_id"),)

    id: int | None = Field(default=None, primary_key=True)
    merged_id: int
    merged_into_id: int
    merged_name: str = Field(max_length=200)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    merged_by: str | None = Field(default=None, max_length=64)
    merged_at: dt.datetime = Field(default_factory=utcnow)
