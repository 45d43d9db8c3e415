"""Matomo through its Reporting API (``index.php?module=API``).

Matomo is self-hosted: the connection's ``extra["url"]`` (else the base URL setting) is
the instance. Calls are POSTs with ``token_auth`` in the body, never in a URL.

* ``daily_metrics``: ``VisitsSummary.get`` (visits, unique visitors, bounces, converted
  visits; engaged = visits − bounces) and ``Actions.get`` (page views), ``period=day``
  over the window.
* ``web_metrics``: ``Referrers.getReferrerType`` (channel groups, as Matomo labels them),
  ``Referrers.getSocials`` (visits per social network) and ``Actions.getEntryPageUrls``
  with ``segment=referrerType==social`` (the pages social networks lead to).

Every report asks ``filter_limit=-1``: Matomo would otherwise truncate to 100 rows per day.
A day without data comes back as ``[]`` and is no data. Errors come back as HTTP 200
``{"result": "error", "message": …}`` and are errors: a token or access problem is
:class:`AuthExpired`, anything else :class:`ProviderError`.

Credentials: ``access_token`` is the ``token_auth``; ``extra["site_id"]`` (``idSite``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from services.ingest.connectors._common import as_total, number, social_network
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors.base import AuthExpired, Credentials, FetchWindow, ProviderError
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    WebMetricRecord,
)

_AUTH_WORDS = (
    "token_auth",
    "authenticate",
    "access to this resource",
    "'view' access",
    "not logged in",
)


class MatomoConnector(HttpConnector):
    provider = "matomo_api"
    network = Network.matomo

    def __init__(self, http: Any, **kw: Any) -> None:
        super().__init__(http, **kw)
        self.fields = metrics_catalogue.field_map(self.network.value)

    def _root(self, creds: Credentials) -> str:
        root = (creds.extra.get("url") or self.base_url).rstrip("/")
        if not root.startswith(("http://", "https://")):
            raise ProviderError("no Matomo URL for this connection", provider=self.provider)
        return root.removesuffix("/index.php")

    @staticmethod
    def _site(creds: Credentials) -> str:
        site = str(creds.extra.get("site_id") or "")
        if not site.isdigit():
            raise ProviderError("credentials carry no numeric site_id", provider="matomo_api")
        return site

    async def api(self, creds: Credentials, method: str, **params: Any) -> Any:
        if not creds.access_token:
            raise AuthExpired("no token_auth", provider=self.provider)
        form = {
            "module": "API",
            "method": method,
            "format": "JSON",
            "idSite": self._site(creds),
            "token_auth": creds.access_token,
            **{k: str(v) for k, v in params.items()},
        }
        response = await self._send("POST", f"{self._root(creds)}/index.php", data=form)
        body = self._json(response)
        if isinstance(body, dict) and body.get("result") == "error":
            message = str(body.get("message") or "Matomo error")
            if any(word in message.lower() for word in _AUTH_WORDS):
                raise AuthExpired(message, provider=self.provider, detail={"method": method})
            raise ProviderError(
                message,
                provider=self.provider,
                status=response.status_code,
                detail={"method": method},
            )
        if response.status_code >= 400:
            raise ProviderError(
                f"HTTP {response.status_code}", provider=self.provider, status=response.status_code
            )
        return body

    def _by_day(self, body: Any, what: str, window: FetchWindow) -> dict[dt.date, Any]:
        """``{"YYYY-MM-DD": …}`` keyed by date; ``[]`` days are noted as no data."""
        out: dict[dt.date, Any] = {}
        if not isinstance(body, dict):
            raise ProviderError(f"{what}: unexpected answer", provider=self.provider)
        for key, value in body.items():
            try:
                day = dt.date.fromisoformat(key)
            except ValueError:
                continue
            if not window.start <= day <= window.end:
                continue
            if not value:  # Matomo writes a day without data as []
                self.empty(f"matomo {what} {day}")
                continue
            out[day] = value
        return out

    def _range(self, window: FetchWindow) -> dict[str, str]:
        return {"period": "day", "date": f"{window.start.isoformat()},{window.end.isoformat()}"}

    async def account(self, creds: Credentials) -> AccountRef:
        body = await self.api(creds, "SitesManager.getSiteFromId")
        site = body[0] if isinstance(body, list) and body else body
        if not isinstance(site, dict):
            raise ProviderError("unexpected site answer", provider=self.provider)
        return AccountRef(
            network=self.network,
            external_id=str(site.get("idsite") or self._site(creds)),
            name=site.get("name"),
            handle=site.get("main_url"),
        )

    def _account(self, creds: Credentials) -> AccountRef:
        return AccountRef(
            network=self.network, external_id=self._site(creds), name=creds.extra.get("name")
        )

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        account = self._account(creds)
        visits = self._by_day(
            await self.api(creds, "VisitsSummary.get", **self._range(window)),
            "VisitsSummary.get",
            window,
        )
        for day, row in sorted(visits.items()):
            values = {
                f"VisitsSummary.get.{k}": number(row.get(k))
                for k in ("nb_visits", "nb_uniq_visitors", "bounce_count", "nb_visits_converted")
            }
            values["VisitsSummary.get.nb_visits-bounce_count"] = self._engaged(
                row, "nb_visits", "bounce_count"
            )
            for field, value in values.items():
                if value is not None:
                    yield self._daily(account, field, day, value)
        actions = self._by_day(
            await self.api(creds, "Actions.get", **self._range(window)), "Actions.get", window
        )
        for day, row in sorted(actions.items()):
            value = number(row.get("nb_pageviews"))
            if value is not None:
                yield self._daily(account, "Actions.get.nb_pageviews", day, value)

    @staticmethod
    def _engaged(row: dict[str, Any], visits: str, bounces: str) -> float | None:
        v, b = number(row.get(visits)), number(row.get(bounces))
        return None if v is None or b is None else v - b

    def _daily(
        self, account: AccountRef, field: str, day: dt.date, value: float
    ) -> DailyMetricRecord:
        return DailyMetricRecord(
            account=account, metric=self.fields[field], day=day, value=value, source=self.source()
        )

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
        everything = {**self._range(window), "filter_limit": -1}
        # Keyed sums: two rows can land on one value (Matomo's "Twitter" and "X" are both
        # x; two entry-page labels can share a URL) and every metric here is additive.
        totals: dict[tuple[dt.date, str, str, str], float] = {}

        def add(day: dt.date, dimension: str, value: str, field: str, n: float | None) -> None:
            if n is not None and value:
                key = (day, dimension, value, field)
                totals[key] = totals.get(key, 0.0) + n

        for method, dimension in (
            ("Referrers.getReferrerType", "channel_group"),
            ("Referrers.getSocials", "social_network"),
        ):
            by_day = self._by_day(await self.api(creds, method, **everything), method, window)
            for day, rows in by_day.items():
                for row in rows if isinstance(rows, list) else []:
                    label = str(row.get("label") or "")
                    if dimension == "social_network":
                        label = social_network(label) or label.lower()
                    add(day, dimension, label, f"{method}.nb_visits", number(row.get("nb_visits")))
                    add(
                        day,
                        dimension,
                        label,
                        f"{method}.nb_visits_converted",
                        number(row.get("nb_visits_converted")),
                    )
                    add(
                        day,
                        dimension,
                        label,
                        f"{method}.nb_visits-bounce_count",
                        self._engaged(row, "nb_visits", "bounce_count"),
                    )

        method = "Actions.getEntryPageUrls"
        body = await self.api(creds, method, **everything, flat=1, segment="referrerType==social")
        for day, rows in self._by_day(body, method, window).items():
            for row in rows if isinstance(rows, list) else []:
                page = self._page(row)
                add(
                    day,
                    "social_landing_page",
                    page,
                    f"{method}.entry_nb_visits",
                    number(row.get("entry_nb_visits")),
                )
                add(
                    day,
                    "social_landing_page",
                    page,
                    f"{method}.entry_nb_visits-entry_bounce_count",
                    self._engaged(row, "entry_nb_visits", "entry_bounce_count"),
                )

        for (day, dimension, value, field), n in sorted(totals.items()):
            yield WebMetricRecord(
                account=account,
                day=day,
                dimension=dimension,
                dimension_value=value,
                metric=self.fields[field],
                value=n,
                source=self.source(),
            )

    @staticmethod
    def _page(row: dict[str, Any]) -> str:
        """The page path (Matomo's flattened labels vary; its ``url`` does not)."""
        url = row.get("url")
        if isinstance(url, str) and url:
            parts = urlsplit(url)
            return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        label = str(row.get("label") or "").strip()
        return label if label.startswith("/") or not label else f"/{label}"
