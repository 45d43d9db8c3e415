"""Contracts of ingest's connections, sync runs and push secrets (``/v1/connections`` …).

Shared by the ingest backend and web's client (``services/web/clients/connections.py``).
No secret ever appears in an answer except the push secret, once, at creation.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shared.schemas.common import JobAccepted
from shared.schemas.ingest import Network


class AuthKind(StrEnum):
    oauth = "oauth"  # authorization-code flow started from the UI
    token = "token"  # noqa: S105 - a pasted long-lived token or API key (the kind, no secret)
    service_account = "service_account"  # GA4 service-account key (JSON)


class ConnectionStatus(StrEnum):
    active = "active"
    reconnect_needed = "reconnect_needed"
    revoked = "revoked"


class ProviderPublic(BaseModel):
    """What the UI needs to offer a connection to one network."""

    network: Network
    provider: str = Field(description="meta, x, linkedin, google, pinterest, matomo, plausible")
    auth_kinds: list[AuthKind]
    oauth_configured: bool = Field(description="The agency has set this provider's client id.")
    scopes: list[str] = Field(description="Scopes a connection for this network needs.")
    external_id_label: str | None = Field(
        description="What to enter as the account id (page id, property id…), None when the "
        "account is discovered from the token."
    )
    extra_fields: list[str] = Field(
        default_factory=list, description="Non-secret settings asked with a pasted token."
    )


class OAuthStart(BaseModel):
    client_id: int
    network: Network
    external_id: str | None = Field(default=None, max_length=200)
    redirect_uri: str = Field(max_length=2000, description="web's callback URL")
    session_binding: str = Field(
        min_length=32, max_length=128, description="web's hash of the user's session"
    )
    connection_id: int | None = Field(default=None, description="Reconnect this connection.")


class OAuthStarted(BaseModel):
    authorize_url: str
    state: str
    expires_at: dt.datetime


class OAuthComplete(BaseModel):
    state: str = Field(min_length=16, max_length=200)
    code: str | None = Field(default=None, max_length=4000)
    error: str | None = Field(default=None, max_length=500)
    error_description: str | None = Field(default=None, max_length=2000)
    session_binding: str = Field(min_length=32, max_length=128)


class TokenPaste(BaseModel):
    """A long-lived token or API key pasted by the agency (Matomo, Plausible, Meta, X…)."""

    client_id: int
    network: Network
    token: str = Field(min_length=8, max_length=8000)
    external_id: str | None = Field(default=None, max_length=200)
    expires_at: dt.datetime | None = Field(default=None, description="When the token expires.")
    extra: dict[str, str] = Field(
        default_factory=dict, description="e.g. {'base_url': 'https://matomo.example.org'}"
    )
    label: str = Field(default="", max_length=200)


class ServiceAccountPaste(BaseModel):
    """A GA4 service-account key (the JSON file Google gives) and the property it reads."""

    client_id: int
    property_id: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^(properties/)?[0-9]+$",
        json_schema_extra={"example": "123456789"},
    )
    key: dict[str, Any] | str = Field(description="the key file's JSON (object or text)")
    label: str = Field(default="", max_length=200)


class LinkedAccount(BaseModel):
    network: Network
    external_id: str | None = Field(description="None until the first sync discovers it")
    account_id: int | None = Field(description="ingest account id once linked")
    name: str | None = None


class SyncRunPublic(BaseModel):
    id: int
    connection_id: int
    account_id: int | None
    job_id: str | None
    kind: str = Field(description="backfill, daily, manual, resume or webhook")
    window_start: dt.date
    window_end: dt.date
    status: str = Field(
        description="running, succeeded, failed, rate_limited (rescheduled), "
        "quota_exhausted, reauth_required"
    )
    counts: dict[str, int] = Field(default_factory=dict)
    retired_metrics: list[dict[str, Any]] = Field(default_factory=list)
    requests: int = 0
    error: str | None = None
    resume_at: dt.datetime | None = None
    started_at: dt.datetime
    finished_at: dt.datetime | None = None


class ConnectionPublic(BaseModel):
    """One connection as the health board shows it."""

    id: int
    client_id: int
    provider: str
    auth_kind: AuthKind
    label: str
    networks: list[Network]
    accounts: list[LinkedAccount]
    status: ConnectionStatus
    status_reason: str | None
    scopes_granted: list[str]
    scopes_needed: list[str]
    scopes_missing: list[str]
    expires_at: dt.datetime | None = Field(description="access token expiry (None: no expiry)")
    expires_in_seconds: int | None = Field(description="countdown; negative once expired")
    refreshable: bool = Field(description="Balise can renew the token without a person.")
    last_success_at: dt.datetime | None
    last_error: str | None
    last_error_at: dt.datetime | None
    rate_limit: dict[str, Any] = Field(default_factory=dict)
    next_allowed_at: dt.datetime | None = Field(
        description="No call before this time (rate limit or exhausted quota)."
    )
    last_run: SyncRunPublic | None = None
    created_at: dt.datetime


class ConnectionCreated(BaseModel):
    connection: ConnectionPublic
    jobs: list[JobAccepted] = Field(description="the backfill jobs started")


class SyncRequest(BaseModel):
    start: dt.date | None = Field(default=None, description="default: the last few days")
    end: dt.date | None = Field(default=None, description="default: yesterday")


class SyncStarted(BaseModel):
    jobs: list[JobAccepted]


class PushSecretCreated(BaseModel):
    client_id: int
    secret: str = Field(description="whsec_… shown once; sign pushes with it")
    created_at: dt.datetime
    endpoint: str


class PushSecretPublic(BaseModel):
    client_id: int
    configured: bool
    created_at: dt.datetime | None = None
    endpoint: str


class PushMetric(BaseModel):
    metric: str = Field(max_length=40, description="canonical metric name")
    day: dt.date
    value: float


class PushAccount(BaseModel):
    network: Network
    external_id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    handle: str | None = Field(default=None, max_length=200)


class MetricsPush(BaseModel):
    """The body of a signed metrics push: canonical daily values of one account."""

    account: PushAccount
    metrics: list[PushMetric] = Field(min_length=1, max_length=10_000)
    provider: str = Field(default="push", max_length=60, description="who produced the numbers")
    version: str | None = Field(default=None, max_length=40)


class PushAccepted(BaseModel):
    msg_id: str
    account_id: int | None = None
    daily_rows: int
