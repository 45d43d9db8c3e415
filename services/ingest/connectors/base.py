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
  timeouts (the connector already retried with backoff and jitter). :class:`Unsupported`
  (a ``ProviderError``) says the provider offers no way to get what was asked.

Beside the three methods every connector has, some connectors offer more, each family a
protocol of its own (check with ``isinstance``):

* :class:`ProfileSource` (social networks): ``profile`` — today's totals of the connected
  account (followers, following, posts). Most networks keep no follower history, so the
  sync stores this snapshot every day; ``daily_metrics`` only carries what the network
  gives per day.
* :class:`PublicDataSource` (peers and relays): ``public_profile`` and ``public_posts`` of
  *another* account, from what the platform exposes publicly.
* :class:`WebAnalyticsSource` (GA4, Matomo, Plausible): ``web_metrics`` — the breakdowns
  by channel group, source / medium, social network and landing page from social.
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
    ProfileSnapshot,
    RetiredMetricNote,
    WebMetricRecord,
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


class Unsupported(ProviderError):
    """The provider's API offers no way to get this (e.g. another account's Pinterest data)."""

    def __init__(self, message: str, *, provider: str, detail: dict[str, Any] | None = None):
        super().__init__(message, provider=provider, retryable=False, detail=detail)


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


@runtime_checkable
class ProfileSource(Protocol):
    """A social connector that can read today's totals of the connected account."""

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        """Followers, following and post counts as the network shows them today."""
        ...


@runtime_checkable
class PublicDataSource(Protocol):
    """A connector that can read what a platform exposes about *another* account.

    ``target`` is how the platform names that account: a username or handle (X, Instagram
    Business Discovery, YouTube ``@handle``), a Page id or username (Facebook), a channel id
    (YouTube ``UC…``). The credentials are the agency's own connection on that network.
    """

    async def public_profile(self, creds: Credentials, target: str) -> ProfileSnapshot:
        """The other account's public totals today (history is never invented)."""
        ...

    def public_posts(
        self, creds: Credentials, target: str, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        """The other account's posts in the window with their public counts today."""
        ...


@runtime_checkable
class WebAnalyticsSource(Protocol):
    """A web-analytics connector: daily breakdowns beside the property's daily totals."""

    def web_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[WebMetricRecord]:
        """Per day: channel groups, source / medium, social networks, landing pages from social."""
        ...
