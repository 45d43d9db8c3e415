"""API schemas of peer groups and peers."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.schemas.common import Patch
from shared.schemas.ingest import SOCIAL_NETWORKS, Network


def _social(network: Network) -> Network:
    if network not in SOCIAL_NETWORKS:
        raise ValueError(f"{network.value} is not a social network")
    return network


class PeerAccountIn(BaseModel):
    network: Network
    handle: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(
        default=None, max_length=200, description="the platform's id; the handle when absent"
    )
    url: str | None = Field(default=None, max_length=1000)

    _net = field_validator("network")(_social)

    @model_validator(mode="after")
    def _identified(self) -> PeerAccountIn:
        if self.handle:
            self.handle = self.handle.strip().lstrip("@") or None
        if not (self.external_id or self.handle):
            raise ValueError("an account needs a handle or an external id")
        return self


class PeerAccountPublic(BaseModel):
    id: int
    peer_id: int
    network: Network
    external_id: str
    handle: str | None
    url: str | None
    ingest_account_id: int | None = Field(
        description="None until ingest has registered it (collection not started)"
    )
    created_at: dt.datetime


class PeerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=5000)
    accounts: list[PeerAccountIn] = Field(default_factory=list, max_length=20)


class PeerUpdate(Patch):
    NOT_NULL = ("name",)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=1000)
    notes: str | None = Field(default=None, max_length=5000)


class PeerPublic(BaseModel):
    id: int
    group_id: int
    name: str
    website: str | None
    notes: str | None
    accounts: list[PeerAccountPublic]
    created_at: dt.datetime


class PeerGroupCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class PeerGroupUpdate(Patch):
    NOT_NULL = ("name",)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class ResultSummary(BaseModel):
    id: int
    version: int
    start: dt.date
    end: dt.date
    computed_at: dt.datetime


class PeerGroupPublic(BaseModel):
    id: int
    client_id: int
    name: str
    description: str | None
    peers: int
    latest_result: ResultSummary | None
    created_at: dt.datetime
    updated_at: dt.datetime


class PeerGroupDetail(PeerGroupPublic):
    members: list[PeerPublic]


class BenchmarkRequest(BaseModel):
    """The period to benchmark (inclusive); the last 12 full months when absent."""

    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _period(self) -> BenchmarkRequest:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither")
        if self.start and self.end:
            if self.start > self.end:
                raise ValueError("start is after end")
            if (self.end - self.start).days > 3 * 366:
                raise ValueError("a period is at most three years")
        return self

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        if self.start and self.end:
            return self.start, self.end
        end = today - dt.timedelta(days=1)
        return end - dt.timedelta(days=364), end
