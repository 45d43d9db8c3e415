"""YouTube: the Data API for channels and videos, the Analytics API for daily metrics.

* ``profile`` / ``public_profile``: ``channels.list`` (``statistics``: subscribers — absent
  when the channel hides them —, video count, lifetime views), by ``mine=true``, ``id`` or
  ``forHandle``.
* ``posts`` / ``public_posts``: the channel's uploads playlist through
  ``playlistItems.list`` (``nextPageToken`` paging, newest first, stopping at the window
  start), then ``videos.list`` by batches of 50 for statistics and duration.
* ``daily_metrics``: Analytics ``reports.query`` with ``dimensions=day``.

Quota: ``quotaExceeded`` is :class:`QuotaExhausted` until midnight Pacific time.
Credentials: an OAuth token; ``extra["channel_id"]`` or the token's own channel (``mine``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import in_window, number, parse_time, total, zone
from services.ingest.connectors._google import GoogleConnector
from services.ingest.connectors.base import Credentials, FetchWindow, ProviderError
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    ProfileSnapshot,
)

ANALYTICS_METRICS = (
    "views",
    "estimatedMinutesWatched",
    "likes",
    "comments",
    "shares",
    "subscribersGained",
    "subscribersLost",
)
VIDEO_BATCH = 50  # videos.list takes at most 50 ids
PAGE_SIZE = 50  # playlistItems.list maxResults ceiling
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def iso_duration(text: object) -> float | None:
    """``PT1M3S`` → 63.0 seconds; None when absent or unreadable."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text == "P":
        return None
    d, h, m, s = match.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)


class YouTubeConnector(GoogleConnector):
    provider = "youtube_api"
    network = Network.youtube

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        analytics_base_url: str = "https://youtubeanalytics.googleapis.com",
        analytics_api_version: str = "v2",
        **kw: Any,
    ) -> None:
        super().__init__(http, **kw)
        self.analytics_base_url = analytics_base_url.rstrip("/")
        self.analytics_api_version = analytics_api_version
        self.fields = metrics_catalogue.field_map(self.network.value)

    def data_url(self, resource: str) -> str:
        return f"{self.base_url}/{self.api_version}/{resource}"

    # -- channels ------------------------------------------------------------------------

    async def _channel(self, creds: Credentials, target: str | None, part: str) -> dict[str, Any]:
        params: dict[str, Any] = {"part": part}
        if target is None:
            channel_id = creds.extra.get("channel_id")
            params.update({"id": channel_id} if channel_id else {"mine": "true"})
        elif target.startswith("UC") and len(target) == 24:
            params["id"] = target
        else:
            params["forHandle"] = target if target.startswith("@") else f"@{target}"
        body = await self.call(creds, "GET", self.data_url("channels"), params=params)
        items = body.get("items") or []
        if not items:
            raise ProviderError(
                f"no YouTube channel for {target or 'these credentials'}",
                provider=self.provider,
                status=404,
            )
        return dict(items[0])

    def _account(self, channel: dict[str, Any]) -> AccountRef:
        snippet = channel.get("snippet") or {}
        return AccountRef(
            network=self.network,
            external_id=str(channel["id"]),
            name=snippet.get("title"),
            handle=snippet.get("customUrl"),
        )

    async def account(self, creds: Credentials) -> AccountRef:
        return self._account(await self._channel(creds, None, "snippet"))

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        return self._snapshot(await self._channel(creds, None, "snippet,statistics"))

    async def public_profile(self, creds: Credentials, target: str) -> ProfileSnapshot:
        return self._snapshot(await self._channel(creds, target, "snippet,statistics"))

    def _snapshot(self, channel: dict[str, Any]) -> ProfileSnapshot:
        stats = channel.get("statistics") or {}
        metrics: dict[str, float] = {}
        for field in ("subscriberCount", "videoCount", "viewCount"):
            if field == "subscriberCount" and stats.get("hiddenSubscriberCount"):
                continue  # hidden is no data, never zero
            value = number(stats.get(field))
            if value is not None:
                metrics[self.fields[f"channel.statistics.{field}"]] = value
        snippet = channel.get("snippet") or {}
        handle = snippet.get("customUrl")
        return ProfileSnapshot(
            account=self._account(channel),
            observed_on=self.today(),
            metrics=metrics,
            bio=snippet.get("description"),
            url=f"https://www.youtube.com/{handle}" if handle else None,
            source=self.source(),
        )

    # -- analytics -----------------------------------------------------------------------

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        channel_id = creds.extra.get("channel_id")
        account = (
            AccountRef(network=self.network, external_id=channel_id)
            if channel_id
            else await self.account(creds)
        )
        body = await self.call(
            creds,
            "GET",
            f"{self.analytics_base_url}/{self.analytics_api_version}/reports",
            params={
                "ids": f"channel=={channel_id}" if channel_id else "channel==MINE",
                "startDate": window.start.isoformat(),
                "endDate": window.end.isoformat(),
                "metrics": ",".join(ANALYTICS_METRICS),
                "dimensions": "day",
                "sort": "day",
            },
        )
        source = self.source("youtube_analytics", self.analytics_api_version)
        names = [str(h.get("name")) for h in body.get("columnHeaders") or []]
        rows = body.get("rows") or []  # absent or [] when the channel had no data
        if not rows:
            self.empty(f"youtube analytics {account.external_id} {window.start}..{window.end}")
        for row in rows:
            values = dict(zip(names, row, strict=False))
            try:
                day = dt.date.fromisoformat(str(values.get("day")))
            except ValueError:
                continue
            minutes = number(values.get("estimatedMinutesWatched"))
            fields = {
                f"analytics.{name}": number(values.get(name))
                for name in (
                    "views",
                    "likes",
                    "comments",
                    "shares",
                    "subscribersGained",
                    "subscribersLost",
                )
            }
            fields["analytics.estimatedMinutesWatched"] = (
                minutes * 60 if minutes is not None else None
            )
            fields["analytics.likes+comments+shares"] = total(
                fields["analytics.likes"], fields["analytics.comments"], fields["analytics.shares"]
            )
            for field, value in fields.items():
                if value is not None:
                    yield DailyMetricRecord(
                        account=account,
                        metric=self.fields[field],
                        day=day,
                        value=value,
                        source=source,
                    )

    # -- videos --------------------------------------------------------------------------

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        channel = await self._channel(creds, None, "snippet,contentDetails")
        async for post in self._videos(creds, channel, window):
            yield post

    async def public_posts(
        self, creds: Credentials, target: str, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        channel = await self._channel(creds, target, "snippet,contentDetails")
        async for post in self._videos(creds, channel, window):
            yield post

    async def _videos(
        self, creds: Credentials, channel: dict[str, Any], window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        account = self._account(channel)
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get(
            "uploads"
        )
        if not uploads:
            self.empty(f"youtube {account.external_id}: no uploads playlist")
            return
        ids: list[str] = []
        params: dict[str, Any] = {
            "part": "contentDetails",
            "playlistId": uploads,
            "maxResults": PAGE_SIZE,
        }
        while True:
            body = await self.call(creds, "GET", self.data_url("playlistItems"), params=params)
            self.report.pages += 1
            older = False
            for item in body.get("items") or []:
                details = item.get("contentDetails") or {}
                published = parse_time(details.get("videoPublishedAt"))
                if published is not None and published.astimezone(tz).date() < window.start:
                    older = True  # the uploads playlist runs newest first
                    break
                if in_window(published, window, tz) and details.get("videoId"):
                    ids.append(str(details["videoId"]))
            token = body.get("nextPageToken")
            if older or not token:
                break
            params = {**params, "pageToken": token}
        if not ids:
            self.empty(f"youtube {account.external_id} videos {window.start}..{window.end}")
        for start in range(0, len(ids), VIDEO_BATCH):
            batch = ids[start : start + VIDEO_BATCH]
            body = await self.call(
                creds,
                "GET",
                self.data_url("videos"),
                params={"part": "snippet,statistics,contentDetails", "id": ",".join(batch)},
            )
            for video in body.get("items") or []:
                yield self._post(account, video)

    def _post(self, account: AccountRef, video: dict[str, Any]) -> PostRecord:
        snippet = video.get("snippet") or {}
        stats = video.get("statistics") or {}
        views = number(stats.get("viewCount"))
        likes = number(stats.get("likeCount"))  # absent when the owner hides likes
        comments = number(stats.get("commentCount"))  # absent when comments are off
        values = {
            "video.statistics.viewCount": views,
            "video.statistics.likeCount": likes,
            "video.statistics.commentCount": comments,
            "video.statistics.likeCount+commentCount": total(likes, comments),
        }
        return PostRecord(
            account=account,
            external_id=str(video["id"]),
            published_at=parse_time(snippet.get("publishedAt")),
            content_type="video",
            title=snippet.get("title"),
            text=snippet.get("description"),
            permalink=f"https://www.youtube.com/watch?v={video['id']}",
            duration_seconds=iso_duration((video.get("contentDetails") or {}).get("duration")),
            snapshot_date=self.today(),
            metrics={self.fields[k]: v for k, v in values.items() if v is not None},
            source=self.source(),
        )
