"""Google Analytics 4 through the Data API ``runReport``.

* ``daily_metrics``: the property's daily totals (sessions, engaged sessions, users,
  views, key events).
* ``web_metrics``: per day, by ``sessionDefaultChannelGroup``; by ``sessionSource`` /
  ``sessionMedium`` (and, from those, by social network); and the ``landingPage`` of the
  sessions from the social channel groups.

Each report pages with ``offset``/``limit`` until ``offset`` reaches ``rowCount`` (never
past it). ``returnPropertyQuota`` is asked so the report records the property's token use;
"tokens per day" exhausted is :class:`QuotaExhausted` until midnight Pacific time.

Credentials: an OAuth or service-account access token (the connection layer exchanges
the key); ``extra["property_id"]``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import as_total, number, social_network
from services.ingest.connectors._google import GoogleConnector
from services.ingest.connectors._retired import MetricRetirement
from services.ingest.connectors.base import Credentials, FetchWindow, ProviderError
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    WebMetricRecord,
)

TOTALS = ("sessions", "engagedSessions", "totalUsers", "screenPageViews", "keyEvents")
BREAKDOWN = ("sessions", "engagedSessions", "keyEvents")
SOCIAL_GROUPS = ("Organic Social", "Paid Social")
PAGE_SIZE = 10_000
_INVALID_METRIC = re.compile(r"Field (\w+) is not a valid metric")


class GA4Connector(GoogleConnector):
    provider = "ga4_data_api"
    network = Network.ga4

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        page_size: int = PAGE_SIZE,
        totals: tuple[str, ...] = TOTALS,
        breakdown: tuple[str, ...] = BREAKDOWN,
        **kw: Any,
    ) -> None:
        super().__init__(http, **kw)
        self.page_size = page_size
        self.totals = totals
        self.breakdown = breakdown
        self.fields = metrics_catalogue.field_map(self.network.value)
        self.retirement = MetricRetirement(self.network, self.report)

    @staticmethod
    def _property(creds: Credentials) -> str:
        pid = str(creds.extra.get("property_id") or "").removeprefix("properties/")
        if not pid.isdigit():
            raise ProviderError("credentials carry no numeric property_id", provider="ga4_data_api")
        return pid

    def _account(self, creds: Credentials) -> AccountRef:
        return AccountRef(
            network=self.network, external_id=self._property(creds), name=creds.extra.get("name")
        )

    async def account(self, creds: Credentials) -> AccountRef:
        """Checks the credentials reach the property (its metadata), then names it."""
        pid = self._property(creds)
        await self.call(
            creds, "GET", f"{self.base_url}/{self.api_version}/properties/{pid}/metadata"
        )
        return self._account(creds)

    async def run_report(
        self,
        creds: Credentials,
        window: FetchWindow,
        dimensions: list[str],
        metrics: tuple[str, ...],
        dimension_filter: dict[str, Any] | None = None,
    ) -> AsyncIterator[tuple[dict[str, str], dict[str, float | None]]]:
        """Every row of one runReport, paged with offset/limit up to rowCount.

        A metric the API calls "not a valid metric" (``conversions`` became ``keyEvents``)
        is replaced by the catalogue's successor and noted, not allowed to fail the report.
        """
        url = f"{self.base_url}/{self.api_version}/properties/{self._property(creds)}:runReport"
        asked = self.retirement.current(list(metrics), "runReport")
        offset = 0
        while asked:
            request: dict[str, Any] = {
                "dateRanges": [
                    {"startDate": window.start.isoformat(), "endDate": window.end.isoformat()}
                ],
                "dimensions": [{"name": d} for d in dimensions],
                "metrics": [{"name": m} for m in asked],
                "limit": self.page_size,
                "offset": offset,
                "returnPropertyQuota": True,
            }
            if dimension_filter:
                request["dimensionFilter"] = dimension_filter
            try:
                body = await self.call(creds, "POST", url, json=request)
            except ProviderError as exc:
                refused = [m for m in _INVALID_METRIC.findall(str(exc)) if m in asked]
                if exc.status != 400 or offset or not refused:
                    raise
                asked = self.retirement.retire(refused, asked, "runReport", str(exc))
                continue
            self.report.pages += 1
            if body.get("propertyQuota"):
                self.report.rate_limit["propertyQuota"] = body["propertyQuota"]
            dims = [str(h.get("name")) for h in body.get("dimensionHeaders") or []]
            mets = [str(h.get("name")) for h in body.get("metricHeaders") or []]
            rows = body.get("rows") or []
            for row in rows:
                dvals = [str(v.get("value", "")) for v in row.get("dimensionValues") or []]
                mvals = [number(v.get("value")) for v in row.get("metricValues") or []]
                yield dict(zip(dims, dvals, strict=False)), dict(zip(mets, mvals, strict=False))
            offset += len(rows)
            if not rows or offset >= int(number(body.get("rowCount")) or 0):
                break

    @staticmethod
    def _day(value: str) -> dt.date | None:
        try:
            return dt.datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            return None

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        account = self._account(creds)
        found = False
        async for dims, mets in self.run_report(creds, window, ["date"], self.totals):
            day = self._day(dims.get("date", ""))
            for name, value in mets.items():
                if day is None or value is None:
                    continue
                found = True
                yield DailyMetricRecord(
                    account=account,
                    metric=self.fields[f"runReport.{name}"],
                    day=day,
                    value=value,
                    source=self.source(),
                )
        if not found:
            self.empty(f"ga4 {account.external_id} totals {window.start}..{window.end}")

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

        def record(
            day: dt.date, dimension: str, value: str, name: str, n: float
        ) -> WebMetricRecord:
            return WebMetricRecord(
                account=account,
                day=day,
                dimension=dimension,
                dimension_value=value,
                metric=self.fields[f"runReport.{name}"],
                value=n,
                source=self.source(),
            )

        found = False
        async for dims, mets in self.run_report(
            creds, window, ["date", "sessionDefaultChannelGroup"], self.breakdown
        ):
            day = self._day(dims.get("date", ""))
            for name, n in mets.items():
                if day is not None and n is not None:
                    found = True
                    yield record(day, "channel_group", dims["sessionDefaultChannelGroup"], name, n)

        social: dict[tuple[dt.date, str, str], float] = defaultdict(float)
        async for dims, mets in self.run_report(
            creds, window, ["date", "sessionSource", "sessionMedium"], self.breakdown
        ):
            day = self._day(dims.get("date", ""))
            if day is None:
                continue
            pair = f"{dims['sessionSource']} / {dims['sessionMedium']}"
            network = social_network(dims["sessionSource"])
            for name, n in mets.items():
                if n is None:
                    continue
                found = True
                yield record(day, "source_medium", pair, name, n)
                if network:
                    social[(day, network, name)] += n
        for (day, network, name), n in sorted(social.items()):
            yield record(day, "social_network", network, name, n)

        only_social = {
            "filter": {
                "fieldName": "sessionDefaultChannelGroup",
                "inListFilter": {"values": list(SOCIAL_GROUPS)},
            }
        }
        async for dims, mets in self.run_report(
            creds, window, ["date", "landingPage"], self.breakdown, only_social
        ):
            day = self._day(dims.get("date", ""))
            for name, n in mets.items():
                if day is not None and n is not None:
                    yield record(day, "social_landing_page", dims["landingPage"], name, n)
        if not found:
            self.empty(f"ga4 {account.external_id} breakdowns {window.start}..{window.end}")
