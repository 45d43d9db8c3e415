"""Tables of the connections domain: ``ingest_connection`` and ``ingest_oauth_state``.

Secrets (access and refresh tokens, a GA4 service-account key) are stored only encrypted
(:mod:`shared.crypto`), in the ``*_enc`` columns; nothing else holds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Text
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class Connection(SQLModel, table=True):
    """A client's access to one provider for one or more of its accounts."""

    __tablename__ = "ingest_connection"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    provider: str = Field(max_length=20, description="meta, x, linkedin, google, pinterest…")
    auth_kind: str = Field(max_length=20, description="oauth, token or service_account")
    label: str = Field(default="", max_length=200)
    networks: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    accounts: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_type=JSON,
        nullable=False,
        description="[{network, external_id, account_id, name}] the connection serves",
    )
    extra: dict[str, str] = Field(
        default_factory=dict, sa_type=JSON, nullable=False, description="non-secret settings"
    )
    scopes_granted: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    scopes_needed: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    access_token_enc: str | None = Field(default=None, sa_type=Text)
    refresh_token_enc: str | None = Field(default=None, sa_type=Text)
    service_account_enc: str | None = Field(default=None, sa_type=Text)
    token_type: str | None = Field(default=None, max_length=20)
    expires_at: dt.datetime | None = None
    refresh_expires_at: dt.datetime | None = None
    token_version: int = Field(default=0, description="bumped at every token change")
    status: str = Field(default="active", max_length=20, index=True)
    status_reason: str | None = Field(default=None, max_length=1000)
    last_success_at: dt.datetime | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    last_error_at: dt.datetime | None = None
    rate_limit: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    next_allowed_at: dt.datetime | None = None
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def account_ids(self) -> list[int]:
        return [int(a["account_id"]) for a in self.accounts if a.get("account_id") is not None]

    def __repr__(self) -> str:  # never the encrypted columns either
        return f"Connection(id={self.id}, client_id={self.client_id}, provider={self.provider!r})"


class OAuthState(SQLModel, table=True):
    """A started authorization: single use, short-lived, bound to a session and a client."""

    __tablename__ = "ingest_oauth_state"

    state_hash: str = Field(primary_key=True, max_length=64)
    client_id: int = Field(index=True)
    provider: str = Field(max_length=20)
    network: str = Field(max_length=16)
    external_id: str | None = Field(default=None, max_length=200)
    user_subject: str = Field(max_length=64)
    session_binding: str = Field(max_length=128)
    code_verifier_enc: str | None = Field(default=None, sa_type=Text)
    redirect_uri: str = Field(max_length=2000)
    connection_id: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime = Field(index=True)
