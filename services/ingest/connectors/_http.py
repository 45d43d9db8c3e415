"""What every HTTP connector shares: retries with backoff and jitter, counting, JSON.

A connector subclasses :class:`HttpConnector`, names its ``provider`` and ``network``, and
overrides the hooks it needs:

* ``_before_request`` raises :class:`RateLimited` when the provider already said it is
  throttled (so no request is sent that would be refused);
* ``_after_response`` reads the usage headers into the :class:`SyncReport`;
* ``_is_transient`` says which answers are worth retrying (5xx by default).

Timeouts, transport errors and transient answers are retried ``retry.retries`` times with
exponential backoff and jitter, then turned into ``ProviderError(retryable=True)``. The
sleep, the clock and the jitter source are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from services.ingest.connectors._common import retry_after
from services.ingest.connectors.base import ProviderError, SyncReport
from shared.clock import utcnow
from shared.schemas.ingest import Network, Source

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for 5xx answers and timeouts."""

    retries: int = 3  # after the first attempt
    base: float = 0.5  # seconds before the first retry (before jitter)
    cap: float = 20.0  # no single wait is longer

    def delay(self, attempt: int, jitter: float) -> float:
        """Wait before retry ``attempt`` (0-based): half fixed, half random ("equal jitter")."""
        ceiling = min(self.cap, self.base * (2**attempt))
        return ceiling / 2 + (ceiling / 2) * jitter


class HttpConnector:
    """Base of the HTTP connectors; holds the shared client and the run's report."""

    provider: ClassVar[str]
    network: ClassVar[Network]

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_version: str,
        report: SyncReport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep | None = None,
        now: Clock | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.report = report if report is not None else SyncReport()
        self.report.api_version = api_version
        self.retry = retry or RetryPolicy()
        self._sleep: Sleep = sleep or asyncio.sleep
        self._now: Clock = now or utcnow
        self._jitter = jitter or random.random

    # -- hooks ---------------------------------------------------------------------------

    def _before_request(self, url: str) -> None:
        """Raise RateLimited here when the provider already said to wait."""

    def _after_response(self, response: httpx.Response) -> None:
        """Read usage headers into ``self.report.rate_limit``."""

    def _is_transient(self, response: httpx.Response) -> bool:
        return response.status_code >= 500

    # -- helpers -------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self._now()

    def today(self) -> dt.date:
        return self._now().astimezone(dt.UTC).date()

    def source(self, provider: str | None = None, version: str | None = None) -> Source:
        return Source(
            kind="api", provider=provider or self.provider, version=version or self.api_version
        )

    def empty(self, what: str) -> None:
        """Note an answer that carried no data (never turned into zeros)."""
        self.report.empty_answers.append(what)

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One logical call: retried on timeouts and transient answers, then returned."""
        attempt = 0
        while True:
            self._before_request(url)
            self.report.requests += 1
            try:
                response = await self.http.request(
                    method, url, params=params, json=json, data=data, headers=headers
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if attempt >= self.retry.retries:
                    raise ProviderError(
                        f"no answer after {attempt + 1} attempts ({type(exc).__name__})",
                        provider=self.provider,
                        retryable=True,
                    ) from exc
                await self._sleep(self.retry.delay(attempt, self._jitter()))
                attempt += 1
                continue
            self._after_response(response)
            if not self._is_transient(response):
                return response
            if attempt >= self.retry.retries:
                raise ProviderError(
                    f"HTTP {response.status_code} after {attempt + 1} attempts",
                    provider=self.provider,
                    status=response.status_code,
                    retryable=True,
                    detail={"body": response.text[:500]},
                )
            wait = self.retry.delay(attempt, self._jitter())
            told = retry_after(response.headers.get("retry-after"), self.now())
            if told is not None:
                # The server's own hint wins, still within the policy's bound.
                wait = min(self.retry.cap, max(wait, (told - self.now()).total_seconds()))
            await self._sleep(wait)
            attempt += 1

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise ProviderError(
                f"answer is not JSON (HTTP {response.status_code})",
                provider=self.provider,
                status=response.status_code,
                retryable=False,
                detail={"body": response.text[:300]},
            ) from exc
