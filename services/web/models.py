"""Tables of the web service (prefixed ``web_``): clients, users, sessions, API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow


class ClientBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=80, regex=r"^[a-z0-9][a-z0-9-]*$")
    locale: str = Field(default="fr_CA", max_length=10)


class Client(ClientBase, table=True):
    """A client of the agency: the tenant boundary of every backend."""

    __tablename__ = "web_client"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    archived: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "web_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=32)
    locale: str | None = Field(default=None, max_length=10)
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)


class UserClient(SQLModel, table=True):
    """A user's assignment to a client (admins see every client without one)."""

    __tablename__ = "web_user_client"
    user_id: int = Field(foreign_key="web_user.id", primary_key=True, ondelete="CASCADE")
    client_id: int = Field(foreign_key="web_client.id", primary_key=True, ondelete="CASCADE")


class Session(SQLModel, table=True):
    """A browser session. The cookie holds a signed random id; only its hash is stored."""

    __tablename__ = "web_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="web_user.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_seen_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    user_agent: str = Field(default="", max_length=300)


class ApiToken(SQLModel, table=True):
    """A third-party tool's credential: shown once, stored as a SHA-256 hash."""

    __tablename__ = "web_api_token"
    id: int | None = Field(default=None, primary_key=True)
    token_id: str = Field(max_length=16, unique=True, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    user_id: int = Field(foreign_key="web_user.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=32)
    scope: str = Field(max_length=8)  # read | write
    services: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    client_ids: list[int] = Field(default_factory=list, sa_type=JSON, nullable=False)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None

    def is_active(self, now: dt.datetime | None = None) -> bool:
        now = now or utcnow()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "token_id": self.token_id,
            "name": self.name,
            "scope": self.scope,
            "services": self.services,
            "client_ids": self.client_ids,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "created_at": self.created_at,
        }


class LoginAttempt(SQLModel, table=True):
    """Failed logins per key (an e-mail or a client address), for throttling."""

    __tablename__ = "web_login_attempt"
    __table_args__ = (UniqueConstraint("key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    failures: int = 0
    window_started_at: dt.datetime = Field(default_factory=utcnow)
    locked_until: dt.datetime | None = None
