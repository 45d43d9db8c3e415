"""The Graph API machinery Facebook and Instagram share.

* Usage headers: ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` are JSON strings of
  percentages (``call_count``, ``total_time``, ``total_cputime``) and, for the business
  use cases, ``estimated_time_to_regain_access`` in minutes. They are recorded in the
  report; once a percentage reaches 100 or a wait is announced, the next call raises
  :class:`RateLimited` instead of being sent.
* Errors: code 190 (and 102) → :class:`AuthExpired`; the throttling codes (4, 17, 32, 341,
  613, 80000–80014) → :class:`RateLimited` at the announced time; ``is_transient`` and
  codes 1–2 are retried like a 5xx.
* Paging: ``paging.next`` is followed (rebased on the configured base URL, token kept out
  of the URL) until it is absent or empty.
* Insights: a metric the API rejects as invalid is dropped; the catalogue's replacement is
  asked for instead and a :class:`RetiredMetricNote` records it, so a retired metric never
  fails the whole fetch.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import rebase
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors._retired import MetricRetirement, mentioned
from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    ProviderError,
    RateLimited,
)

THROTTLE_CODES = frozenset({4, 17, 32, 341, 613})
_USAGE_KEYS = ("call_count", "total_time", "total_cputime")
_ALLOWED_LIST = re.compile(r"must be one of the following values:\s*(.+)", re.IGNORECASE | re.S)
_ITEM_SCOPED = re.compile(r"for this media|media product type|media type", re.IGNORECASE)


def _load(header: str | None) -> Any:
    if not header:
        return None
    try:
        return json.loads(header)
    except ValueError:
        return None


def rejected_metrics(message: str, requested: list[str]) -> list[str]:
    """Which of the requested metrics an "invalid metric" error names (may be none)."""
    allowed = _ALLOWED_LIST.search(message)
    if allowed:
        names = {n.strip(" .") for n in allowed.group(1).split(",")}
        return [m for m in requested if m not in names]
    return mentioned(message, requested)


class GraphConnector(HttpConnector):
    """Base of the Facebook and Instagram connectors (Graph API, one version setting)."""

    #: How long to wait when throttled without an announced time (Meta's app-level window
    #: is a rolling hour and gives no estimate).
    default_wait = dt.timedelta(minutes=15)

    def __init__(self, http: httpx.AsyncClient, **kw: Any) -> None:
        super().__init__(http, **kw)
        self._throttled_until: dt.datetime | None = None
        self.retirement = MetricRetirement(self.network, self.report)

    # -- calls ---------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    @staticmethod
    def _headers(creds: Credentials) -> dict[str, str]:
        if not creds.access_token:
            raise AuthExpired("no access token", provider="meta")
        return {"Authorization": f"Bearer {creds.access_token}"}

    async def get(
        self, creds: Credentials, path_or_url: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        response = await self._send("GET", url, params=params, headers=self._headers(creds))
        body = self._json(response)
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            self._raise_for(response, body)
        if not isinstance(body, dict):
            raise ProviderError("unexpected answer", provider=self.provider)
        return body

    #: Graph may hand out an empty page that still carries ``next``; this many in a row
    #: end the listing, so a filtered edge cannot be walked page after empty page.
    max_empty_pages = 2

    async def pages(
        self, creds: Credentials, path: str, params: dict[str, Any]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Each page's ``data`` until ``paging.next`` is absent; stop early by breaking."""
        url: str = self.url(path)
        query: dict[str, Any] | None = params
        empty = 0
        while True:
            body = await self.get(creds, url, query)
            self.report.pages += 1
            data = list(body.get("data") or [])
            yield data
            empty = 0 if data else empty + 1
            next_url = (body.get("paging") or {}).get("next")
            if not next_url:
                return
            if empty >= self.max_empty_pages:
                self.empty(f"{path}: stopped after {empty} empty pages that still had a next link")
                return
            url, query = rebase(next_url, self.base_url), None

    # -- limits and errors ---------------------------------------------------------------

    def _before_request(self, url: str) -> None:
        until = self._throttled_until
        if until is not None and self.now() < until:
            raise RateLimited(
                "Meta asked to back off",
                provider=self.provider,
                retry_at=until,
                detail={"usage": self.report.rate_limit},
            )

    def _after_response(self, response: httpx.Response) -> None:
        app = _load(response.headers.get("x-app-usage"))
        buc = _load(response.headers.get("x-business-use-case-usage"))
        if not isinstance(app, dict) and not isinstance(buc, dict):
            return
        peak = 0.0
        wait_minutes = 0.0
        if isinstance(app, dict):
            self.report.rate_limit["x-app-usage"] = app
            peak = max([peak, *(float(app.get(k) or 0) for k in _USAGE_KEYS)])
        if isinstance(buc, dict):
            self.report.rate_limit["x-business-use-case-usage"] = buc
            for entries in buc.values():
                for entry in entries if isinstance(entries, list) else []:
                    peak = max([peak, *(float(entry.get(k) or 0) for k in _USAGE_KEYS)])
                    wait_minutes = max(
                        wait_minutes, float(entry.get("estimated_time_to_regain_access") or 0)
                    )
        self.report.rate_limit["max_usage_pct"] = peak
        until: dt.datetime | None = None
        if wait_minutes > 0:
            until = self.now() + dt.timedelta(minutes=wait_minutes)
        elif peak >= 100:
            until = self.now() + self.default_wait
        if until is not None:
            if self._throttled_until is None or until > self._throttled_until:
                self._throttled_until = until
            self.report.rate_limit["throttled_until"] = self._throttled_until.isoformat()

    def _is_transient(self, response: httpx.Response) -> bool:
        if response.status_code >= 500:
            return True
        if response.status_code < 400:
            return False
        err = self._error(response)
        return bool(err.get("is_transient")) or err.get("code") in (1, 2)

    @staticmethod
    def _error(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        err = body.get("error") if isinstance(body, dict) else None
        return err if isinstance(err, dict) else {}

    def _raise_for(self, response: httpx.Response, body: Any) -> None:
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            raise ProviderError(
                f"HTTP {response.status_code}",
                provider=self.provider,
                status=response.status_code,
                retryable=response.status_code >= 500,
            )
        code = err.get("code")
        message = str(err.get("message") or f"Graph error {code}")
        detail = {
            k: err.get(k) for k in ("code", "error_subcode", "type", "fbtrace_id") if k in err
        }
        if code in (190, 102):
            raise AuthExpired(message, provider=self.provider, detail=detail)
        if isinstance(code, int) and (code in THROTTLE_CODES or 80000 <= code <= 80014):
            until = self._throttled_until
            if until is None or until <= self.now():
                until = self.now() + self.default_wait
                self._throttled_until = until
            raise RateLimited(message, provider=self.provider, retry_at=until, detail=detail)
        permission = code == 10 or (isinstance(code, int) and 200 <= code <= 299)
        raise ProviderError(
            message,
            provider=self.provider,
            status=response.status_code,
            retryable=bool(err.get("is_transient")) and not permission,
            detail=detail,
        )

    # -- insights with retired metrics ---------------------------------------------------

    async def insights(
        self,
        creds: Credentials,
        object_id: str,
        wanted: list[str],
        params: dict[str, Any],
        *,
        scope: str,
    ) -> list[dict[str, Any]]:
        """``GET /{object_id}/insights`` for the wanted metrics, surviving retired ones.

        ``scope`` is the catalogue prefix of these metrics (``page_insights``,
        ``media_insights``…). Metrics the API refused earlier in this run are not asked
        again; their replacements are.
        """
        metrics = self.retirement.current(wanted, scope)
        while metrics:
            try:
                body = await self.get(
                    creds, f"{object_id}/insights", {**params, "metric": ",".join(metrics)}
                )
            except ProviderError as exc:
                message = str(exc)
                if exc.detail.get("code") != 100 or "metric" not in message.lower():
                    raise
                rejected = rejected_metrics(message, metrics)
                if _ITEM_SCOPED.search(message) and "must be one of" not in message:
                    # Not retired: this object (a Story, a Reel…) does not offer it.
                    if not rejected:
                        raise
                    self.empty(f"{object_id}: {', '.join(rejected)} not offered for this item")
                    metrics = [m for m in metrics if m not in rejected]
                    continue
                if not rejected and len(metrics) == 1:
                    rejected = metrics
                if not rejected:
                    return await self._one_by_one(creds, object_id, metrics, params, scope)
                metrics = self.retirement.retire(rejected, metrics, scope, message)
                continue
            return list(body.get("data") or [])
        return []

    async def _one_by_one(
        self,
        creds: Credentials,
        object_id: str,
        metrics: list[str],
        params: dict[str, Any],
        scope: str,
    ) -> list[dict[str, Any]]:
        """The API refused one of several metrics without naming it: ask for each alone."""
        data: list[dict[str, Any]] = []
        seen: set[tuple[Any, Any]] = set()
        for name in metrics:
            current = self.retirement.current([name], scope)
            if any(key[0] == name_now for name_now in current for key in seen):
                continue  # its replacement already came with another metric
            for entry in await self.insights(creds, object_id, [name], params, scope=scope):
                key = (entry.get("name"), entry.get("period"))
                if key not in seen:
                    seen.add(key)
                    data.append(entry)
        return data
