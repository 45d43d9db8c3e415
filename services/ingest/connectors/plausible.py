"""Plausible Analytics through the Stats API v2 (``POST /api/v2/query``).

* ``daily_metrics``: ``dimensions ["time:day"]`` — visits (sessions), visitors (users),
  page views.
* ``web_metrics``: by ``visit:channel``; by ``visit:source`` within the social channels
  (one value per social network); and ``visit:entry_page`` within the social channels.

Results page with ``pagination {limit, offset}`` and ``include.total_rows``; the next page
is asked only while ``offset`` is below ``meta.total_rows``. A 401 is
:class:`AuthExpired`; a 429 (600 requests an hour per key by default) is
:class:`RateLimited` until ``Retry-After``, else for an hour.

Credentials: the Stats API key as ``access_token``; ``extra["site_id"]`` (the domain).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import as_total, number, retry_after, social_network
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    RateLimited,
)
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    WebMetricRecord,
)

TOTALS = ("visits", "visitors", "pageviews")
BREAKDOWN = ("visits", "visitors")
SOCIAL_CHANNELS = ["Organic Social", "Paid Social"]
PAGE_SIZE = 10_000


class PlausibleConnector(HttpConnector):
    provider = "plausible_stats_api"
    network = Network.plausible

    def __init__(self, http: httpx.AsyncClient, *, page_size: int = PAGE_SIZE, **kw: Any) -> None:
        super().__init__(http, **kw)
        self.page_size = page_size
        self.fields = metrics_catalogue.field_map(self.network.value)

    @staticmethod
    def _site(creds: Credentials) -> str:
        site = str(creds.extra.get("site_id") or "").strip()
        if not site:
            raise ProviderError("credentials carry no site_id", provider="plausible_stats_api")
        return site

    async def query(self, creds: Credentials, body: dict[str, Any]) -> dict[str, Any]:
        if not creds.access_token:
            raise AuthExpired("no API key", provider=self.provider)
        response = await self._send(
            "POST",
            f"{self.base_url}/api/{self.api_version}/query",
            json={"site_id": self._site(creds), **body},
            headers={"Authorization": f"Bearer {creds.access_token}"},
        )
        answer = self._json(response)
        if response.status_code < 400 and isinstance(answer, dict):
            return answer
        message = str((answer or {}).get("error") if isinstance(answer, dict) else "") or (
            f"HTTP {response.status_code}"
        )
        if response.status_code == 401:
            raise AuthExpired(message, provider=self.provider)
        if response.status_code == 429:
            now = self.now()
            until = retry_after(response.headers.get("retry-after"), now) or now + dt.timedelta(
                hours=1
            )
            raise RateLimited(message, provider=self.provider, retry_at=until)
        raise ProviderError(message, provider=self.provider, status=response.status_code)

    async def rows(
        self,
        creds: Credentials,
        window: FetchWindow,
        dimensions: list[str],
        metrics: tuple[str, ...],
        filters: list[Any] | None = None,
    ) -> AsyncIterator[tuple[list[str], dict[str, float | None]]]:
        """Every result row, paged with offset/limit until meta.total_rows."""
        offset = 0
        while True:
            body: dict[str, Any] = {
                "metrics": list(metrics),
                "date_range": [window.start.isoformat(), window.end.isoformat()],
                "dimensions": dimensions,
                "include": {"total_rows": True},
                "pagination": {"limit": self.page_size, "offset": offset},
            }
            if filters:
                body["filters"] = filters
            answer = await self.query(creds, body)
            self.report.pages += 1
            results = answer.get("results") or []
            for result in results:
                values = [number(v) for v in result.get("metrics") or []]
                yield (
                    [str(d) for d in result.get("dimensions") or []],
                    dict(zip(metrics, values, strict=False)),
                )
            offset += len(results)
            total_rows = number((answer.get("meta") or {}).get("total_rows"))
            if not results or total_rows is None or offset >= total_rows:
                break

    def _account(self, creds: Credentials) -> AccountRef:
        site = self._site(creds)
        return AccountRef(
            network=self.network, external_id=site, name=creds.extra.get("name") or site
        )

    async def account(self, creds: Credentials) -> AccountRef:
        """Checks the key reaches the site (a one-day aggregate), then names it."""
        await self.query(creds, {"metrics": ["visitors"], "date_range": "day"})
        return self._account(creds)

    @staticmethod
    def _day(value: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        account = self._account(creds)
        found = False
        async for dims, values in self.rows(creds, window, ["time:day"], TOTALS):
            day = self._day(dims[0]) if dims else None
            for name, value in values.items():
                if day is None or value is None:
                    continue
                found = True
                yield DailyMetricRecord(
                    account=account,
                    metric=self.fields[f"query.{name}"],
                    day=day,
                    value=value,
                    source=self.source(),
                )
        if not found:
            self.empty(f"plausible {account.external_id} {window.start}..{window.end}")

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        """Nothing: a web property has no posts."""
        return
        yield  # an empty async generator

    async def web_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[WebMetricRecord]:
        account = self._account(creds)
        async for row in self.daily_metrics(creds, window):
            yield as_total(row)  # the audit reads the property's totals beside its breakdowns
        social = [["is", "visit:channel", SOCIAL_CHANNELS]]
        # Several sources can name one network ("Facebook", "m.facebook.com"): their visits
        # add up, their unique visitors would not, so that report sums visits only.
        reports: list[tuple[str, list[str], tuple[str, ...], list[Any] | None]] = [
            ("channel_group", ["time:day", "visit:channel"], BREAKDOWN, None),
            ("social_network", ["time:day", "visit:source"], ("visits",), social),
            ("social_landing_page", ["time:day", "visit:entry_page"], BREAKDOWN, social),
        ]
        for dimension, dims, metrics, filters in reports:
            totals: dict[tuple[dt.date, str, str], float] = {}
            async for values_of, values in self.rows(creds, window, dims, metrics, filters):
                day = self._day(values_of[0]) if values_of else None
                if day is None or len(values_of) < 2:
                    continue
                label = values_of[1]
                if dimension == "social_network":
                    label = social_network(label) or label.lower()
                for name, value in values.items():
                    if value is not None:
                        key = (day, label, name)
                        totals[key] = totals.get(key, 0.0) + value
            for (day, label, name), value in sorted(totals.items()):
                yield WebMetricRecord(
                    account=account,
                    day=day,
                    dimension=dimension,
                    dimension_value=label,
                    metric=self.fields[f"query.{name}"],
                    value=value,
                    source=self.source(),
                )
