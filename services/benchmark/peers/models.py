"""Tables of peer groups, peers, their accounts and the versioned benchmark results."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class PeerGroup(SQLModel, table=True):
    __tablename__ = "benchmark_peer_group"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class Peer(SQLModel, table=True):
    """An organisation similar to the client, with its public accounts."""

    __tablename__ = "benchmark_peer"

    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="benchmark_peer_group.id", ondelete="CASCADE", index=True)
    client_id: int = Field(index=True, description="tenant (copied from the group)")
    ref: str = Field(
        default_factory=lambda: uuid.uuid4().hex,
        max_length=32,
        unique=True,
        description="the owner reference ingest knows this peer by (set before insert)",
    )
    name: str = Field(max_length=200)
    website: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=5000)
    created_at: dt.datetime = Field(default_factory=utcnow)


class PeerAccount(SQLModel, table=True):
    """A peer's public account, registered in ingest (which collects its public data)."""

    __tablename__ = "benchmark_peer_account"
    __table_args__ = (
        UniqueConstraint("peer_id", "network", "external_id", name="uq_benchmark_peer_account"),
    )

    id: int | None = Field(default=None, primary_key=True)
    peer_id: int = Field(foreign_key="benchmark_peer.id", ondelete="CASCADE", index=True)
    client_id: int = Field(index=True)
    network: str = Field(max_length=16)
    external_id: str = Field(max_length=200)
    handle: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=1000)
    ingest_account_id: int | None = Field(default=None, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class BenchmarkResultRow(SQLModel, table=True):
    """A computed peer benchmark. Never updated: a recomputation is a new version."""

    __tablename__ = "benchmark_result"
    __table_args__ = (
        UniqueConstraint("peer_group_id", "version", name="uq_benchmark_result_version"),
        Index("ix_benchmark_result_client_group", "client_id", "peer_group_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int
    peer_group_id: int = Field(foreign_key="benchmark_peer_group.id", ondelete="CASCADE")
    version: int
    start: dt.date
    end: dt.date
    computed_at: dt.datetime = Field(default_factory=utcnow)
    job_id: str | None = Field(default=None, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
