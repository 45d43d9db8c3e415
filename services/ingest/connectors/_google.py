"""Google APIs' error shape, shared by YouTube (Data and Analytics) and GA4 (Data API).

``{"error": {"code", "message", "status", "errors": [{"reason", "domain"}], "details"}}``:

* 401 / ``UNAUTHENTICATED`` / ``authError`` → :class:`AuthExpired`;
* ``quotaExceeded`` / ``dailyLimitExceeded`` (YouTube) and "tokens per day" (GA4) →
  :class:`QuotaExhausted`, resuming at the next midnight Pacific time, when Google's daily
  quotas reset;
* ``rateLimitExceeded`` / ``userRateLimitExceeded`` and other 429s → :class:`RateLimited`
  (``Retry-After`` when given; GA4's hourly tokens at the next hour);
* 5xx are retried by :class:`HttpConnector` before they get here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

import httpx

from services.ingest.connectors._common import PACIFIC, next_midnight, retry_after
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    ProviderError,
    QuotaExhausted,
    RateLimited,
)

DAILY_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})


class GoogleConnector(HttpConnector):
    """A connector speaking to a Google API with an OAuth access token."""

    @staticmethod
    def _headers(creds: Credentials) -> dict[str, str]:
        if not creds.access_token:
            raise AuthExpired("no access token", provider="google")
        return {"Authorization": f"Bearer {creds.access_token}"}

    async def call(
        self,
        creds: Credentials,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        response = await self._send(
            method, url, params=params, json=json, headers=self._headers(creds)
        )
        body = self._json(response)
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            self._raise_for(response, body)
        if not isinstance(body, dict):
            raise ProviderError("unexpected answer", provider=self.provider)
        return body

    def _raise_for(self, response: httpx.Response, body: Any) -> NoReturn:
        err = body.get("error") if isinstance(body, dict) else None
        err = err if isinstance(err, dict) else {}
        message = str(err.get("message") or f"HTTP {response.status_code}")
        status = str(err.get("status") or "")
        reasons = {str(e.get("reason")) for e in err.get("errors") or [] if isinstance(e, dict)}
        reasons |= {
            str(d.get("reason"))
            for d in err.get("details") or []
            if isinstance(d, dict) and d.get("reason")
        }
        detail = {"status": status, "reasons": sorted(reasons)}
        now = self.now()
        if response.status_code == 401 or status == "UNAUTHENTICATED" or "authError" in reasons:
            raise AuthExpired(message, provider=self.provider, detail=detail)
        lowered = message.lower()
        if reasons & DAILY_REASONS or "per day" in lowered:
            raise QuotaExhausted(
                message,
                provider=self.provider,
                resume_at=next_midnight(now, PACIFIC),
                detail=detail,
            )
        if reasons & RATE_REASONS or response.status_code == 429 or status == "RESOURCE_EXHAUSTED":
            if "per hour" in lowered:
                until = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            else:
                until = retry_after(response.headers.get("retry-after"), now) or (
                    now + dt.timedelta(minutes=1)
                )
            raise RateLimited(message, provider=self.provider, retry_at=until, detail=detail)
        raise ProviderError(
            message,
            provider=self.provider,
            status=response.status_code,
            retryable=response.status_code >= 500,
            detail=detail,
        )
