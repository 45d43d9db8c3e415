"""API schemas of the relay directory, shortlists and relay history."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from services.benchmark.relays.models import RelationshipStatus, RelayKind
from shared.schemas.common import Patch
from shared.schemas.ingest import SOCIAL_NETWORKS, Network

SortKey = Literal[
    "name",
    "composite",
    "followers",
    "reach",
    "resonance",
    "relevance",
    "authenticity",
    "activity",
    "updated_at",
]


def clean_topics(topics: list[str]) -> list[str]:
    out: list[str] = []
    for t in topics:
        t = " ".join(t.strip().casefold().split())
        if t and t not in out:
            out.append(t[:80])
    return out


class RelayAccountIn(BaseModel):
    network: Network
    handle: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)
    url: str | None = Field(default=None, max_length=1000)

    @field_validator("network")
    @classmethod
    def _social(cls, v: Network) -> Network:
        if v not in SOCIAL_NETWORKS:
            raise ValueError(f"{v.value} is not a social network")
        return v

    @field_validator("handle")
    @classmethod
    def _handle(cls, v: str) -> str:
        v = v.strip().lstrip("@").strip()
        if not v:
            raise ValueError("empty handle")
        return v


class RelayAccountPublic(BaseModel):
    id: int
    network: Network
    handle: str
    external_id: str | None
    url: str | None
    ingest_account_id: int | None


class RelayCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: RelayKind = RelayKind.person
    language: str | None = Field(default=None, max_length=8, pattern=r"^[a-z]{2}(-[a-z]{2})?$")
    region: str | None = Field(default=None, max_length=120)
    bio: str | None = Field(default=None, max_length=5000)
    status: RelationshipStatus = RelationshipStatus.to_contact
    notes: str | None = Field(default=None, max_length=20000)
    email: str | None = Field(default=None, max_length=300)
    topics: list[str] = Field(default_factory=list, max_length=30)
    accounts: list[RelayAccountIn] = Field(default_factory=list, max_length=20)

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str]) -> list[str]:
        return clean_topics(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("empty name")
        return v


class RelayUpdate(Patch):
    NOT_NULL = ("name", "kind", "status")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: RelayKind | None = None
    language: str | None = Field(default=None, max_length=8, pattern=r"^[a-z]{2}(-[a-z]{2})?$")
    region: str | None = Field(default=None, max_length=120)
    bio: str | None = Field(default=None, max_length=5000)
    status: RelationshipStatus | None = None
    notes: str | None = Field(default=None, max_length=20000)
    email: str | None = Field(default=None, max_length=300)
    topics: list[str] | None = Field(default=None, max_length=30)

    @field_validator("topics")
    @classmethod
    def _topics(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else clean_topics(v)


class ComponentScores(BaseModel):
    reach: float | None = None
    resonance: float | None = None
    relevance: float | None = None
    authenticity: float | None = None
    activity: float | None = None


class RelayPublic(BaseModel):
    """A directory row. ``composite`` includes relevance when asked for a client."""

    id: int
    name: str
    kind: str
    language: str | None
    region: str | None
    status: str
    topics: list[str]
    networks: list[Network]
    followers: float | None
    tier: str | None
    composite: float | None
    scores: ComponentScores
    shortlisted: bool | None = Field(default=None, description="for the client asked about")
    updated_at: dt.datetime


class RelaysPage(BaseModel):
    data: list[RelayPublic]
    next_cursor: str | None = None
    total: int


class HistoryIn(BaseModel):
    client_id: int
    relayed_on: dt.date
    client_post_id: int | None = None
    client_post_url: str | None = Field(default=None, max_length=1000)
    relay_post_url: str | None = Field(default=None, max_length=1000)
    network: Network | None = None
    amplification: float | None = Field(default=None, ge=0)
    amplification_metric: str | None = Field(default=None, max_length=40)
    amplification_source: str | None = Field(default=None, max_length=300)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _measured(self) -> HistoryIn:
        if self.amplification is not None and not self.amplification_metric:
            raise ValueError("an amplification needs the metric it was measured with")
        return self


class HistoryPublic(HistoryIn):
    id: int
    relay_id: int
    created_at: dt.datetime


class RelayDetail(RelayPublic):
    bio: str | None
    notes: str | None
    email: str | None
    aliases: list[str]
    accounts: list[RelayAccountPublic]
    history: list[HistoryPublic]
    explanation: dict[str, Any] | None = Field(
        description="the latest score's components, data and rules"
    )
    relevance: dict[str, Any] | None = Field(
        default=None, description="relevance to the client asked about, with matched keywords"
    )
    scored_at: dt.datetime | None = None
    shortlisted_for: list[int] = Field(default_factory=list)


class DuplicatePair(BaseModel):
    a: RelayPublic
    b: RelayPublic
    similarity: float
    reasons: list[str]


class MergeRequest(BaseModel):
    other_id: int = Field(description="the duplicate, merged into this relay and removed")


class DismissRequest(BaseModel):
    a: int
    b: int


class ShortlistIn(BaseModel):
    relay_id: int
    note: str | None = Field(default=None, max_length=2000)


class ShortlistEntry(BaseModel):
    relay: RelayPublic
    note: str | None
    added_at: dt.datetime
    added_by: str | None


class ImportRowIssue(BaseModel):
    row: int | None
    column: str | None = None
    value: str | None = None
    reason: str


class ImportDuplicate(BaseModel):
    row: int
    name: str
    existing_id: int
    existing_name: str
    similarity: float
    reasons: list[str]


class RelayImportSummary(BaseModel):
    dry_run: bool
    rows: int
    created: int = 0
    merged: int = 0
    errors: list[ImportRowIssue] = Field(default_factory=list)
    duplicates: list[ImportDuplicate] = Field(default_factory=list)
    created_ids: list[int] = Field(default_factory=list)
