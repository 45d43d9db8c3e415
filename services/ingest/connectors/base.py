"""The one protocol every provider connector implements.

A connector turns a provider's official API into canonical records
(:mod:`shared.schemas.ingest`). It knows the provider's paging, limits and errors; it knows
nothing of the database (the sync job stores what it yields through the store loader) and
nothing of where credentials are kept (the connection layer hands it
:class:`Credentials`, already decrypted and refreshed).

Errors a connector raises say what the caller must do:

* :class:`RateLimited`: wait until ``retry_at`` then continue (X ``x-rate-limit-reset``,
  Meta ``estimated_time_to_regain_access``).
* :class:`QuotaExhausted`: stop, do not retry; ``resume_at`` says when it can resume (X
  usage cap, YouTube ``quotaExceeded``).
* :class:`AuthExpired`: the token is no longer valid (Meta code 190…): the account is marked
  "reconnect needed" and a webhook event fires.
* :class:`ProviderError`: anything else the provider refused; ``retryable`` for 5xx and
  timeouts (the connector already retried with backoff and jitter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    RetiredMetricNote,
)


@dataclass(frozen=True)
class Credentials:
    """What a connector needs to call the provider for one account or property."""

    access_token: str | None = None
    # GA4 service-account key (the JSON dict) or other provider-specific secrets.
    service_account: dict[str, Any] | None = None
    # Provider-specific identifiers: page id, ig user id, org URN, channel id, site id…
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FetchWindow:
    """Days to fetch, inclusive, in the account's own day boundaries."""

    start: dt.date
    end: dt.date


@dataclass
class SyncReport:
    """What a connector noticed while fetching, for the sync run's log and the health board."""

    requests: int = 0
    pages: int = 0
    retired_metrics: list[RetiredMetricNote] = field(default_factory=list)
    empty_answers: list[str] = field(default_factory=list)  # "no data", never zero
    rate_limit: dict[str, Any] = field(default_factory=dict)  # last known usage headers
    api_version: str | None = None


class ConnectorError(Exception):
    """Base of what connectors raise; ``public_message`` is safe to show and store."""

    def __init__(self, message: str, *, provider: str, detail: dict[str, Any] | None = None):
        super().__init__(message)
        self.provider = provider
        self.detail = detail or {}

    @property
    def public_message(self) -> str:
        return f"{self.provider}: {self}"


class RateLimited(ConnectorError):
    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retry_at: dt.datetime,
        detail: dict[str, Any] | None = None,
    ):
        super().__init__(message, provider=provider, detail=detail)
        self.retry_at = retry_at


class QuotaExhausted(ConnectorError):
    def __init__(
        self,
        message: str,
        *,
        provider: str,
        resume_at: dt.datetime | None,
        detail: dict[str, Any] | None = None,
    ):
        super().__init__(message, provider=provider, detail=detail)
        self.resume_at = resume_at


class AuthExpired(ConnectorError):
    """The credentials are no longer accepted; a person must reconnect the account."""


class ProviderError(ConnectorError):
    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
        detail: dict[str, Any] | None = None,
    ):
        super().__init__(message, provider=provider, detail=detail)
        self.status = status
        self.retryable = retryable


@runtime_checkable
class Connector(Protocol):
    """One provider. Instances are cheap; they share the caller's ``httpx.AsyncClient``."""

    provider: str  # e.g. "facebook_graph"
    network: Network

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_version: str,
        report: SyncReport | None = None,
    ) -> None: ...

    async def account(self, creds: Credentials) -> AccountRef:
        """Who the credentials give access to (page, profile, channel, property)."""
        ...

    def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        """Account-level (or property-level) daily values over the window."""
        ...

    def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        """Posts published in the window, each with today's snapshot of its metrics."""
        ...
