"""LinkedIn organisation pages through the versioned Community Management APIs.

Every call sends ``LinkedIn-Version: <YYYYMM>`` (the API version setting) and
``X-Restli-Protocol-Version: 2.0.0``; Rest.li query values (``timeIntervals=(…)``,
``List(…)``) are written by hand with their URNs percent-encoded.

* ``profile``: ``networkSizes/{org-urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`` (followers).
* ``daily_metrics``: time-bound ``organizationalEntityFollowerStatistics`` (daily gains)
  and ``organizationalEntityShareStatistics`` (organic impressions, clicks, reactions,
  comments, shares), ``timeGranularityType:DAY``; share statistics only reach back 12
  months, so older days are left out (and noted).
* ``posts``: ``posts?q=author`` sorted by creation, paged with ``start``/``count`` while a
  ``next`` link (or the ``total``) says there is more and the posts are still in the
  window; their lifetime statistics come by batches of 20 from the share statistics
  finder (``shares=List(…)``, ``ugcPosts=List(…)``).

Limits: LinkedIn's daily quotas reset at midnight UTC; a 429 is :class:`QuotaExhausted`
until then. 401 (``REVOKED_ACCESS_TOKEN``, expired) is :class:`AuthExpired`; 426 says the
version header is sunset.

Credentials: a member token of a page administrator; ``extra["organization_id"]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from services.ingest.connectors._common import (
    clamp,
    from_millis,
    in_window,
    millis,
    next_midnight,
    number,
    total,
    zone,
)
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    QuotaExhausted,
)
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    ProfileSnapshot,
)

PAGE_SIZE = 50
STATS_BATCH = 20
SHARE_STATS_DAYS = 365  # "the past 12 months, rolling"
_SHARE_FIELDS = (
    "impressionCount",
    "uniqueImpressionsCount",
    "clickCount",
    "likeCount",
    "commentCount",
    "shareCount",
)


def _enc(urn: str) -> str:
    return quote(urn, safe="")


class LinkedInConnector(HttpConnector):
    provider = "linkedin_api"
    network = Network.linkedin

    def __init__(self, http: httpx.AsyncClient, *, page_size: int = PAGE_SIZE, **kw: Any) -> None:
        super().__init__(http, **kw)
        self.page_size = page_size
        self.fields = metrics_catalogue.field_map(self.network.value)

    @staticmethod
    def _org(creds: Credentials) -> tuple[str, str]:
        raw = str(creds.extra.get("organization_id") or "")
        org_id = raw.rsplit(":", 1)[-1]
        if not org_id.isdigit():
            raise ProviderError("credentials carry no organization_id", provider="linkedin_api")
        return org_id, f"urn:li:organization:{org_id}"

    async def _get(self, creds: Credentials, path: str, query: str = "") -> dict[str, Any]:
        if not creds.access_token:
            raise AuthExpired("no access token", provider=self.provider)
        headers = {
            "Authorization": f"Bearer {creds.access_token}",
            "LinkedIn-Version": self.api_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        url = f"{self.base_url}/{path}" + (f"?{query}" if query else "")
        response = await self._send("GET", url, headers=headers)
        body = self._json(response) if response.content else {}
        if response.status_code < 400:
            if not isinstance(body, dict):
                raise ProviderError("unexpected answer", provider=self.provider)
            return body
        err = body if isinstance(body, dict) else {}
        message = str(err.get("message") or f"HTTP {response.status_code}")
        detail = {k: err[k] for k in ("serviceErrorCode", "code", "status") if k in err}
        if response.status_code == 401:
            raise AuthExpired(message, provider=self.provider, detail=detail)
        if response.status_code == 429:
            raise QuotaExhausted(
                message,
                provider=self.provider,
                resume_at=next_midnight(self.now(), dt.UTC),
                detail=detail,
            )
        if response.status_code == 426:
            message = f"LinkedIn-Version {self.api_version} is sunset: {message}"
        raise ProviderError(
            message, provider=self.provider, status=response.status_code, detail=detail
        )

    # -- organisation ----------------------------------------------------------------------

    async def account(self, creds: Credentials) -> AccountRef:
        org_id, _ = self._org(creds)
        body = await self._get(creds, f"organizations/{org_id}")
        return AccountRef(
            network=self.network,
            external_id=org_id,
            name=body.get("localizedName"),
            handle=body.get("vanityName"),
        )

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        account = await self.account(creds)
        _, urn = self._org(creds)
        body = await self._get(
            creds, f"networkSizes/{_enc(urn)}", "edgeType=COMPANY_FOLLOWED_BY_MEMBER"
        )
        size = number(body.get("firstDegreeSize"))
        metrics = {} if size is None else {self.fields["networkSizes.firstDegreeSize"]: size}
        return ProfileSnapshot(
            account=account,
            observed_on=self.today(),
            metrics=metrics,
            url=f"https://www.linkedin.com/company/{account.handle}" if account.handle else None,
            source=self.source(),
        )

    # -- statistics ------------------------------------------------------------------------

    def _interval(self, window: FetchWindow) -> str:
        start, end = millis(window.start), millis(window.end + dt.timedelta(days=1))
        return f"timeIntervals=(timeRange:(start:{start},end:{end}),timeGranularityType:DAY)"

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        org_id, urn = self._org(creds)
        account = AccountRef(network=self.network, external_id=org_id)
        finder = f"q=organizationalEntity&organizationalEntity={_enc(urn)}"

        body = await self._get(
            creds, "organizationalEntityFollowerStatistics", f"{finder}&{self._interval(window)}"
        )
        elements = body.get("elements") or []
        if not elements:
            self.empty(f"linkedin {org_id} follower statistics {window.start}..{window.end}")
        field = "followerStatistics.followerGains.organicFollowerGain+paidFollowerGain"
        for element in elements:
            day = self._day(element)
            gains = element.get("followerGains") or {}
            value = total(
                number(gains.get("organicFollowerGain")), number(gains.get("paidFollowerGain"))
            )
            if day is not None and value is not None and window.start <= day <= window.end:
                yield self._row(account, field, day, value)

        recent = clamp(window, self.today() - dt.timedelta(days=SHARE_STATS_DAYS - 1))
        if recent is None or recent.start > window.start:
            self.empty(f"linkedin {org_id} share statistics before the last 12 months")
        if recent is None:
            return
        body = await self._get(
            creds, "organizationalEntityShareStatistics", f"{finder}&{self._interval(recent)}"
        )
        elements = body.get("elements") or []
        if not elements:
            self.empty(f"linkedin {org_id} share statistics {recent.start}..{recent.end}")
        for element in elements:
            day = self._day(element)
            if day is None or not recent.start <= day <= recent.end:
                continue
            for name, value in self._share_values(
                element.get("totalShareStatistics") or {}
            ).items():
                yield self._row(account, name, day, value)

    @staticmethod
    def _day(element: dict[str, Any]) -> dt.date | None:
        start = from_millis((element.get("timeRange") or {}).get("start"))
        return start.date() if start else None

    def _row(
        self, account: AccountRef, field: str, day: dt.date, value: float
    ) -> DailyMetricRecord:
        return DailyMetricRecord(
            account=account, metric=self.fields[field], day=day, value=value, source=self.source()
        )

    @staticmethod
    def _share_values(stats: dict[str, Any]) -> dict[str, float]:
        counts = {k: number(stats.get(k)) for k in _SHARE_FIELDS}
        out = {f"shareStatistics.{k}": v for k, v in counts.items() if v is not None}
        engagements = total(
            counts["clickCount"], counts["likeCount"], counts["commentCount"], counts["shareCount"]
        )
        if engagements is not None:
            out["shareStatistics.clickCount+likeCount+commentCount+shareCount"] = engagements
        return out

    # -- posts -----------------------------------------------------------------------------

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        org_id, urn = self._org(creds)
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        account = AccountRef(network=self.network, external_id=org_id)
        kept: list[dict[str, Any]] = []
        start = 0
        while True:
            body = await self._get(
                creds,
                "posts",
                f"author={_enc(urn)}&q=author&count={self.page_size}&start={start}&sortBy=CREATED",
            )
            self.report.pages += 1
            elements = body.get("elements") or []
            older = False
            for element in elements:
                published = from_millis(element.get("publishedAt") or element.get("createdAt"))
                if published is not None and published.astimezone(tz).date() < window.start:
                    older = True  # sorted by creation, newest first
                    break
                if (
                    in_window(published, window, tz)
                    and element.get("lifecycleState", "PUBLISHED") == "PUBLISHED"
                ):
                    kept.append(element)
            start += len(elements)
            if (
                older
                or not elements
                or not self._more(body.get("paging") or {}, start, len(elements))
            ):
                break
        if not kept:
            self.empty(f"linkedin {org_id} posts {window.start}..{window.end}")
        for first in range(0, len(kept), STATS_BATCH):
            batch = kept[first : first + STATS_BATCH]
            stats = await self._post_stats(creds, urn, [str(p["id"]) for p in batch])
            for element in batch:
                yield self._post(account, element, stats.get(str(element["id"])))

    def _more(self, paging: dict[str, Any], seen: int, got: int) -> bool:
        """Another page exists: a ``next`` link, else ``total``, else a full page."""
        links = paging.get("links")
        if isinstance(links, list) and links:
            return any(link.get("rel") == "next" for link in links)
        grand = number(paging.get("total"))
        if grand is not None:
            return seen < grand
        return got >= self.page_size

    async def _post_stats(
        self, creds: Credentials, urn: str, ids: list[str]
    ) -> dict[str, dict[str, float]]:
        shares = [i for i in ids if i.startswith("urn:li:share:")]
        ugc = [i for i in ids if i.startswith("urn:li:ugcPost:")]
        query = f"q=organizationalEntity&organizationalEntity={_enc(urn)}"
        if shares:
            query += "&shares=List(" + ",".join(_enc(i) for i in shares) + ")"
        if ugc:
            query += "&ugcPosts=List(" + ",".join(_enc(i) for i in ugc) + ")"
        if not shares and not ugc:
            return {}
        body = await self._get(creds, "organizationalEntityShareStatistics", query)
        out: dict[str, dict[str, float]] = {}
        for element in body.get("elements") or []:
            post_id = element.get("share") or element.get("ugcPost")
            if post_id:
                out[str(post_id)] = self._share_values(element.get("totalShareStatistics") or {})
        return out

    def _post(
        self, account: AccountRef, element: dict[str, Any], stats: dict[str, float] | None
    ) -> PostRecord:
        content = element.get("content") or {}
        media_id = str((content.get("media") or {}).get("id") or "")
        if "multiImage" in content:
            content_type, fmt = "carousel", "multiImage"
        elif media_id.startswith("urn:li:video:"):
            content_type, fmt = "video", "video"
        elif media_id.startswith("urn:li:image:"):
            content_type, fmt = "photo", "image"
        elif media_id.startswith("urn:li:document:"):
            content_type, fmt = "document", "document"
        elif "article" in content:
            content_type, fmt = "link", "article"
        elif "poll" in content:
            content_type, fmt = "other", "poll"
        elif content:
            content_type, fmt = "other", next(iter(content))
        else:
            content_type, fmt = "text", "text"
        if stats is None:
            self.empty(f"linkedin post {element['id']} statistics")
        metrics = {self.fields[k]: v for k, v in (stats or {}).items()}
        return PostRecord(
            account=account,
            external_id=str(element["id"]),
            published_at=from_millis(element.get("publishedAt") or element.get("createdAt")),
            content_type=content_type,
            format=fmt,
            text=element.get("commentary"),
            permalink=f"https://www.linkedin.com/feed/update/{element['id']}/",
            snapshot_date=self.today(),
            metrics=metrics,
            source=self.source(),
        )
