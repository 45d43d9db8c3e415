"""Instagram professional accounts through the Graph API (Instagram API with Facebook Login).

* ``daily_metrics``: ``GET /{ig-user-id}/insights`` — ``reach`` and ``follower_count`` as
  daily time series (at most 30 days per call); ``views``, ``total_interactions``, likes,
  comments, shares and saves only exist as ``metric_type=total_value`` over a range, so
  they are asked one day at a time.
* ``posts``: ``GET /{ig-user-id}/media`` (cursor paging, newest first) and
  ``GET /{media-id}/insights`` with the metrics each media product offers.
* ``profile``: the user's counts; ``public_profile`` / ``public_posts``: Business
  Discovery (``business_discovery.username(…)``), whose nested media page with
  ``media.after(cursor)``.

The 2025 retirement (``impressions`` → ``views``; ``plays`` and ``video_views`` →
``views``) is handled by :meth:`GraphConnector.insights`.

Credentials: the user token; ``extra["ig_user_id"]``, optionally ``extra["timezone"]``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import (
    chunks,
    day_ending_at,
    days,
    in_window,
    number,
    parse_time,
    total,
    zone,
)
from services.ingest.connectors.base import Credentials, FetchWindow, ProviderError
from services.ingest.connectors.meta import GraphConnector
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    ProfileSnapshot,
)

ACCOUNT_SERIES = ("reach", "follower_count")
ACCOUNT_TOTALS = ("views", "total_interactions", "likes", "comments", "shares", "saves")
MEDIA_METRICS = {
    "FEED": ("views", "reach", "saved", "shares", "total_interactions"),
    "REELS": ("views", "reach", "saved", "shares", "total_interactions"),
    "STORY": ("views", "reach", "shares", "total_interactions"),
}
SERIES_DAYS = 30  # the account insights edge serves at most 30 days per call
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,permalink,like_count,comments_count"
)
USER_FIELDS = "id,username,name,biography,website,followers_count,follows_count,media_count"
PUBLIC_PAGE = 50
_CONTENT = {"IMAGE": "photo", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}
_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,30}$")


class InstagramConnector(GraphConnector):
    provider = "instagram_graph"
    network = Network.instagram

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        account_series: tuple[str, ...] | None = None,
        account_totals: tuple[str, ...] | None = None,
        media_metrics: dict[str, tuple[str, ...]] | None = None,
        public_page_size: int = PUBLIC_PAGE,
        **kw: Any,
    ) -> None:
        super().__init__(http, **kw)
        self.account_series = list(account_series or ACCOUNT_SERIES)
        self.account_totals = list(account_totals or ACCOUNT_TOTALS)
        self.media_metrics = media_metrics or MEDIA_METRICS
        self.public_page_size = public_page_size
        self.fields = metrics_catalogue.field_map(self.network.value)

    @staticmethod
    def _user(creds: Credentials) -> str:
        user = creds.extra.get("ig_user_id")
        if not user:
            raise ProviderError("credentials carry no ig_user_id", provider="instagram_graph")
        return user

    async def account(self, creds: Credentials) -> AccountRef:
        body = await self.get(creds, self._user(creds), {"fields": "id,username,name"})
        return AccountRef(
            network=self.network,
            external_id=str(body.get("id") or self._user(creds)),
            name=body.get("name"),
            handle=body.get("username"),
        )

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        body = await self.get(creds, self._user(creds), {"fields": USER_FIELDS})
        return self._snapshot(body)

    async def public_profile(self, creds: Credentials, target: str) -> ProfileSnapshot:
        handle = self._handle(target)
        body = await self.get(
            creds,
            self._user(creds),
            {"fields": f"business_discovery.username({handle}){{{USER_FIELDS}}}"},
        )
        found = body.get("business_discovery")
        if not isinstance(found, dict):
            raise ProviderError(
                f"no Business Discovery answer for {handle}", provider=self.provider
            )
        return self._snapshot(found)

    def _snapshot(self, body: dict[str, Any]) -> ProfileSnapshot:
        metrics: dict[str, float] = {}
        for field in ("followers_count", "follows_count", "media_count"):
            value = number(body.get(field))
            if value is not None:
                metrics[self.fields[f"user.{field}"]] = value
        return ProfileSnapshot(
            account=AccountRef(
                network=self.network,
                external_id=str(body.get("id")),
                name=body.get("name"),
                handle=body.get("username"),
            ),
            observed_on=self.today(),
            metrics=metrics,
            bio=body.get("biography"),
            url=body.get("website"),
            source=self.source(),
        )

    @staticmethod
    def _handle(target: str) -> str:
        handle = target.strip().lstrip("@")
        if not _HANDLE.match(handle):  # it goes inside a field expansion: keep it plain
            raise ProviderError(
                f"not an Instagram username: {target!r}", provider="instagram_graph"
            )
        return handle

    # -- account insights ----------------------------------------------------------------

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        user = self._user(creds)
        tz = zone(creds.extra.get("timezone"))
        account = AccountRef(network=self.network, external_id=user)
        for part in chunks(window, SERIES_DAYS):
            params = {
                "period": "day",
                "since": part.start.isoformat(),
                "until": (part.end + dt.timedelta(days=1)).isoformat(),
            }
            data = await self.insights(
                creds, user, self.account_series, params, scope="user_insights"
            )
            found = False
            for entry in data:
                metric = self.fields.get(f"user_insights.{entry.get('name')}")
                if metric is None:
                    continue
                for point in entry.get("values") or []:
                    end = parse_time(point.get("end_time"))
                    value = number(point.get("value"))
                    if end is None or value is None:
                        continue
                    day = day_ending_at(end, tz)
                    if part.start <= day <= part.end:
                        found = True
                        yield DailyMetricRecord(
                            account=account,
                            metric=metric,
                            day=day,
                            value=value,
                            source=self.source(),
                        )
            if not found:
                self.empty(f"instagram {user} daily series {part.start}..{part.end}")
        for day in days(window):
            params = {
                "metric_type": "total_value",
                "period": "day",
                "since": day.isoformat(),
                "until": (day + dt.timedelta(days=1)).isoformat(),
            }
            data = await self.insights(
                creds, user, self.account_totals, params, scope="user_insights"
            )
            found = False
            for entry in data:
                metric = self.fields.get(f"user_insights.{entry.get('name')}")
                value = number((entry.get("total_value") or {}).get("value"))
                if metric is not None and value is not None:
                    found = True
                    yield DailyMetricRecord(
                        account=account, metric=metric, day=day, value=value, source=self.source()
                    )
            if not found:
                self.empty(f"instagram {user} totals {day}")

    # -- media ---------------------------------------------------------------------------

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        user = self._user(creds)
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        account = AccountRef(network=self.network, external_id=user)
        found = False
        async for items in self.pages(
            creds, f"{user}/media", {"fields": MEDIA_FIELDS, "limit": 50}
        ):
            older = False
            for item in items:
                created = parse_time(item.get("timestamp"))
                if created is not None and created.astimezone(tz).date() < window.start:
                    older = True
                    break
                if not in_window(created, window, tz):
                    continue
                found = True
                post = self._post(account, item, created, public=False)
                wanted = self.media_metrics.get(str(item.get("media_product_type") or "FEED"))
                if wanted:
                    data = await self.insights(
                        creds, str(item["id"]), list(wanted), {}, scope="media_insights"
                    )
                    for entry in data:
                        metric = self.fields.get(f"media_insights.{entry.get('name')}")
                        values = entry.get("values") or []
                        value = number(values[0].get("value")) if values else None
                        if metric is not None and value is not None:
                            post.metrics[metric] = value
                    if not data:
                        self.empty(f"instagram media {item['id']} insights")
                yield post
            if older:
                break
        if not found:
            self.empty(f"instagram {user} media {window.start}..{window.end}")

    async def public_posts(
        self, creds: Credentials, target: str, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        handle = self._handle(target)
        user = self._user(creds)
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        after = ""
        account: AccountRef | None = None
        found = False
        while True:
            cursor = f".after({after})" if after else ""
            body = await self.get(
                creds,
                user,
                {
                    "fields": f"business_discovery.username({handle})"
                    f"{{id,username,media{cursor}.limit({self.public_page_size}){{{MEDIA_FIELDS}}}}}"
                },
            )
            self.report.pages += 1
            discovered = body.get("business_discovery") or {}
            account = account or AccountRef(
                network=self.network,
                external_id=str(discovered.get("id") or handle),
                handle=discovered.get("username") or handle,
            )
            media = discovered.get("media") or {}
            items = list(media.get("data") or [])
            older = False
            for item in items:
                created = parse_time(item.get("timestamp"))
                if created is not None and created.astimezone(tz).date() < window.start:
                    older = True
                    break
                if in_window(created, window, tz):
                    found = True
                    yield self._post(account, item, created, public=True)
            paging = media.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after") or ""
            # Business Discovery gives an "after" cursor even on the last page; only a full
            # page (or an explicit next link) means there is more.
            more = bool(paging.get("next")) or len(items) >= self.public_page_size
            if older or not after or not items or not more:
                break
        if not found:
            self.empty(f"instagram business discovery {handle} {window.start}..{window.end}")

    def _post(
        self,
        account: AccountRef,
        item: dict[str, Any],
        created: dt.datetime | None,
        *,
        public: bool,
    ) -> PostRecord:
        media_type = str(item.get("media_type") or "")
        product = str(item.get("media_product_type") or "")
        if product == "REELS":
            content_type = "reel"
        elif product == "STORY":
            content_type = "story"
        else:
            content_type = _CONTENT.get(media_type, "other")
        metrics: dict[str, float] = {}
        likes = number(item.get("like_count"))  # absent when the owner hides like counts
        comments = number(item.get("comments_count"))
        if likes is not None:
            metrics[self.fields["media.like_count"]] = likes
        if comments is not None:
            metrics[self.fields["media.comments_count"]] = comments
        if public:
            engagements = total(likes, comments)
            if engagements is not None:
                metrics[self.fields["media.like_count+comments_count"]] = engagements
        return PostRecord(
            account=account,
            external_id=str(item["id"]),
            published_at=created,
            content_type=content_type,
            format=product if product in ("REELS", "STORY") else media_type or None,
            text=item.get("caption"),
            permalink=item.get("permalink"),
            snapshot_date=self.today(),
            metrics=metrics,
            source=self.source(),
        )
