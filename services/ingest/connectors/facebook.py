"""Facebook Pages through the Graph API.

* ``daily_metrics``: ``GET /{page-id}/insights?period=day&since&until`` in windows of at
  most 90 days (the API's limit; its time-based ``paging.next`` always points further in
  time, so it is never followed — the windows are ours).
* ``posts``: ``GET /{page-id}/published_posts`` (cursor paging) with the reaction, comment
  and share totals, then ``GET /{post-id}/insights`` per post.
* ``profile`` / ``public_profile``: the Page fields ``followers_count`` and ``fan_count``
  (another Page needs Meta's Page Public Metadata Access); ``public_posts`` reads
  ``/{page}/posts`` (Page Public Content Access).

Credentials: a Page access token; ``extra["page_id"]`` and optionally
``extra["timezone"]`` (the Page's zone, which makes the day of each value exact).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import (
    chunks,
    day_ending_at,
    in_window,
    number,
    parse_time,
    total,
    zone,
)
from services.ingest.connectors.base import (
    Credentials,
    FetchWindow,
    ProviderError,
)
from services.ingest.connectors.meta import GraphConnector
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    ProfileSnapshot,
)

PAGE_METRICS = (
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
    "page_follows",
    "page_daily_follows_unique",
    "page_daily_unfollows_unique",
    "page_views_total",
    "page_video_views",
)
POST_METRICS = ("post_media_view", "post_total_media_view_unique", "post_clicks")
VIDEO_POST_METRICS = (*POST_METRICS, "post_video_views")
MAX_DAYS = 90  # the insights edge serves at most 90 days per call
POST_FIELDS = (
    "id,created_time,message,permalink_url,status_type,attachments{media_type,type},"
    "shares,reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
)
PAGE_FIELDS = "id,name,username,link,about,followers_count,fan_count"
_CONTENT = {
    "photo": "photo",
    "video": "video",
    "album": "carousel",
    "link": "link",
    "event": "event",
}


class FacebookConnector(GraphConnector):
    provider = "facebook_graph"
    network = Network.facebook

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        page_metrics: tuple[str, ...] | None = None,
        post_metrics: tuple[str, ...] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(http, **kw)
        self.page_metrics = list(page_metrics or PAGE_METRICS)
        self.post_metrics = list(post_metrics or POST_METRICS)
        self.fields = metrics_catalogue.field_map(self.network.value)

    @staticmethod
    def _page_id(creds: Credentials) -> str:
        page_id = creds.extra.get("page_id")
        if not page_id:
            raise ProviderError("credentials carry no page_id", provider="facebook_graph")
        return page_id

    async def account(self, creds: Credentials) -> AccountRef:
        body = await self.get(creds, self._page_id(creds), {"fields": "id,name,username"})
        return AccountRef(
            network=self.network,
            external_id=str(body.get("id") or self._page_id(creds)),
            name=body.get("name"),
            handle=body.get("username"),
        )

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        return await self._page_profile(creds, self._page_id(creds))

    async def public_profile(self, creds: Credentials, target: str) -> ProfileSnapshot:
        return await self._page_profile(creds, target)

    async def _page_profile(self, creds: Credentials, page: str) -> ProfileSnapshot:
        body = await self.get(creds, page, {"fields": PAGE_FIELDS})
        metrics: dict[str, float] = {}
        for field in ("followers_count", "fan_count"):
            value = number(body.get(field))
            if value is not None:
                metrics[self.fields[f"page.{field}"]] = value
        return ProfileSnapshot(
            account=AccountRef(
                network=self.network,
                external_id=str(body.get("id") or page),
                name=body.get("name"),
                handle=body.get("username"),
            ),
            observed_on=self.today(),
            metrics=metrics,
            bio=body.get("about"),
            url=body.get("link"),
            source=self.source(),
        )

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        page_id = self._page_id(creds)
        tz = zone(creds.extra.get("timezone"))
        account = AccountRef(network=self.network, external_id=page_id)
        for part in chunks(window, MAX_DAYS):
            params = {
                "period": "day",
                "since": part.start.isoformat(),
                "until": (part.end + dt.timedelta(days=1)).isoformat(),
            }
            data = await self.insights(
                creds, page_id, self.page_metrics, params, scope="page_insights"
            )
            found = False
            for entry in data:
                metric = self.fields.get(f"page_insights.{entry.get('name')}")
                if metric is None or entry.get("period") != "day":
                    continue
                for point in entry.get("values") or []:
                    end = parse_time(point.get("end_time"))
                    value = number(point.get("value"))
                    if end is None or value is None:
                        continue
                    day = day_ending_at(end, tz)
                    if not part.start <= day <= part.end:
                        continue
                    found = True
                    yield DailyMetricRecord(
                        account=account, metric=metric, day=day, value=value, source=self.source()
                    )
            if not found:
                self.empty(f"facebook page {page_id} insights {part.start}..{part.end}")

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        page_id = self._page_id(creds)
        async for post in self._posts(creds, page_id, "published_posts", window, insights=True):
            yield post

    async def public_posts(
        self, creds: Credentials, target: str, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        async for post in self._posts(creds, target, "posts", window, insights=False):
            yield post

    async def _posts(
        self, creds: Credentials, page: str, edge: str, window: FetchWindow, *, insights: bool
    ) -> AsyncIterator[PostRecord]:
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        account = AccountRef(network=self.network, external_id=page)
        params = {
            "fields": POST_FIELDS,
            "since": window.start.isoformat(),
            "until": (window.end + dt.timedelta(days=1)).isoformat(),
            "limit": 100,
        }
        found = False
        async for items in self.pages(creds, f"{page}/{edge}", params):
            older = False
            for item in items:
                created = parse_time(item.get("created_time"))
                if created is not None and created.astimezone(tz).date() < window.start:
                    older = True  # newest first: nothing further is in the window
                    break
                if not in_window(created, window, tz):
                    continue
                found = True
                yield await self._post(creds, account, item, created, insights=insights)
            if older:
                break
        if not found:
            self.empty(f"facebook {page} {edge} {window.start}..{window.end}")

    async def _post(
        self,
        creds: Credentials,
        account: AccountRef,
        item: dict[str, Any],
        created: dt.datetime | None,
        *,
        insights: bool,
    ) -> PostRecord:
        attachments = (item.get("attachments") or {}).get("data") or []
        first = attachments[0] if attachments else {}
        media_type = str(first.get("media_type") or "").lower()
        content_type = _CONTENT.get(media_type, "other") if first else "text"
        reactions = number(((item.get("reactions") or {}).get("summary") or {}).get("total_count"))
        comments = number(((item.get("comments") or {}).get("summary") or {}).get("total_count"))
        # Graph leaves "shares" out of a post nobody shared: an answered post without it
        # has 0 shares (this is the API's encoding of zero, not missing data).
        shares = number((item.get("shares") or {}).get("count")) if "shares" in item else 0.0
        metrics: dict[str, float] = {}
        for name, value in (
            ("post.reactions.summary.total_count", reactions),
            ("post.comments.summary.total_count", comments),
            ("post.shares.count", shares),
            ("post.reactions+comments+shares", total(reactions, comments, shares)),
        ):
            if value is not None:
                metrics[self.fields[name]] = value
        if insights:
            wanted = list(self.post_metrics)
            if content_type == "video":
                wanted += [m for m in VIDEO_POST_METRICS if m not in wanted]
            data = await self.insights(
                creds, str(item["id"]), wanted, {"period": "lifetime"}, scope="post_insights"
            )
            for entry in data:
                metric = self.fields.get(f"post_insights.{entry.get('name')}")
                values = entry.get("values") or []
                value = number(values[0].get("value")) if values else None
                if metric is not None and value is not None:
                    metrics[metric] = value
            if not data:
                self.empty(f"facebook post {item['id']} insights")
        return PostRecord(
            account=account,
            external_id=str(item["id"]),
            published_at=created,
            content_type=content_type,
            format=first.get("type") or item.get("status_type"),
            text=item.get("message"),
            permalink=item.get("permalink_url"),
            snapshot_date=self.today(),
            metrics=metrics,
            source=self.source(),
        )
