"""Pinterest API v5: the user account, its analytics and its Pins.

* ``profile``: ``GET /v5/user_account`` (followers, following, Pin count).
* ``daily_metrics``: ``GET /v5/user_account/analytics`` (``NO_SPLIT``); Pinterest serves
  at most 90 days back, so older days are left out (and noted), and a day whose
  ``data_status`` is not ``READY`` is no data.
* ``posts``: ``GET /v5/pins`` paged with ``bookmark`` until it is null, then
  ``GET /v5/pins/{id}/analytics`` per Pin in the window: lifetime comments and reactions,
  and impressions, saves and clicks only for Pins young enough for the 90-day lookback to
  cover their whole life (an older Pin's sum would not be its total).
* ``public_profile`` / ``public_posts``: v5 exposes no other account's data; the only way
  is Business Access — the peer shares an ad account and ``target`` is its id. Anything
  else raises :class:`Unsupported` (import the peer's export instead).

Credentials: the user token; ``extra["ad_account_id"]`` to act for a Business Access
account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx

from services.ingest.connectors._common import (
    clamp,
    in_window,
    number,
    parse_time,
    retry_after,
    zone,
)
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    RateLimited,
    Unsupported,
)
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    ProfileSnapshot,
)

USER_METRICS = ("IMPRESSION", "ENGAGEMENT", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK")
PIN_WINDOW_METRICS = ("IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK")
PIN_LIFETIME_METRICS = ("TOTAL_COMMENTS", "TOTAL_REACTIONS")
LOOKBACK_DAYS = 90
PAGE_SIZE = 100
_CONTENT = {
    "image": "photo",
    "video": "video",
    "multiple_images": "carousel",
    "multiple_videos": "carousel",
    "multiple_mixed": "carousel",
}


class PinterestConnector(HttpConnector):
    provider = "pinterest_api"
    network = Network.pinterest

    def __init__(self, http: httpx.AsyncClient, *, page_size: int = PAGE_SIZE, **kw: Any) -> None:
        super().__init__(http, **kw)
        self.page_size = page_size
        self.fields = metrics_catalogue.field_map(self.network.value)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    def _after_response(self, response: httpx.Response) -> None:
        usage = {
            k: response.headers[k]
            for k in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
            if k in response.headers
        }
        if usage:
            self.report.rate_limit.update(usage)

    async def _get(self, creds: Credentials, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if not creds.access_token:
            raise AuthExpired("no access token", provider=self.provider)
        response = await self._send(
            "GET",
            self.url(path),
            params=params,
            headers={"Authorization": f"Bearer {creds.access_token}"},
        )
        body = self._json(response)
        if response.status_code < 400 and isinstance(body, dict):
            return body
        err = body if isinstance(body, dict) else {}
        message = str(err.get("message") or f"HTTP {response.status_code}")
        detail = {"code": err.get("code")}
        if response.status_code == 401:
            raise AuthExpired(message, provider=self.provider, detail=detail)
        if response.status_code == 429:
            raise RateLimited(
                message, provider=self.provider, retry_at=self._reset(response), detail=detail
            )
        raise ProviderError(
            message, provider=self.provider, status=response.status_code, detail=detail
        )

    def _reset(self, response: httpx.Response) -> dt.datetime:
        now = self.now()
        told = retry_after(response.headers.get("retry-after"), now)
        if told is not None:
            return told
        reset = number(response.headers.get("x-ratelimit-reset"))
        if reset is not None:
            # seconds to wait, or an epoch timestamp when it is that large
            return (
                dt.datetime.fromtimestamp(reset, dt.UTC)
                if reset > 1e9
                else now + dt.timedelta(seconds=reset)
            )
        return now + dt.timedelta(minutes=1)

    @staticmethod
    def _scope(creds: Credentials, ad_account: str | None = None) -> dict[str, str]:
        account = ad_account or creds.extra.get("ad_account_id")
        return {"ad_account_id": account} if account else {}

    # -- account ---------------------------------------------------------------------------

    async def account(self, creds: Credentials) -> AccountRef:
        return (await self.profile(creds)).account

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        body = await self._get(creds, "user_account", self._scope(creds))
        return self._snapshot(body)

    def _snapshot(self, body: dict[str, Any]) -> ProfileSnapshot:
        metrics: dict[str, float] = {}
        for field in ("follower_count", "following_count", "pin_count"):
            value = number(body.get(field))
            if value is not None:
                metrics[self.fields[f"user_account.{field}"]] = value
        username = body.get("username")
        return ProfileSnapshot(
            account=AccountRef(
                network=self.network,
                external_id=str(body.get("id") or username),
                name=body.get("business_name") or username,
                handle=username,
            ),
            observed_on=self.today(),
            metrics=metrics,
            bio=body.get("about"),
            url=body.get("website_url") or None,
            source=self.source(),
        )

    @staticmethod
    def _business_access(target: str) -> str:
        ad_account = target.strip()
        if not ad_account.isdigit():
            raise Unsupported(
                "Pinterest API v5 exposes no other account's data. A peer can share an ad "
                "account through Business Access (give its ad account id), or its analytics "
                "export can be imported.",
                provider="pinterest_api",
                detail={"target": target},
            )
        return ad_account

    async def public_profile(self, creds: Credentials, target: str) -> ProfileSnapshot:
        body = await self._get(
            creds, "user_account", self._scope(creds, self._business_access(target))
        )
        return self._snapshot(body)

    # -- analytics -------------------------------------------------------------------------

    def _lookback(self) -> dt.date:
        return self.today() - dt.timedelta(days=LOOKBACK_DAYS)

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        part = clamp(FetchWindow(window.start, min(window.end, self.today())), self._lookback())
        account = (await self.profile(creds)).account
        if part is None or part.start > window.start:
            self.empty(f"pinterest {account.external_id} analytics older than {LOOKBACK_DAYS} days")
        if part is None or part.start > part.end:
            return
        body = await self._get(
            creds,
            "user_account/analytics",
            {
                **self._scope(creds),
                "start_date": part.start.isoformat(),
                "end_date": part.end.isoformat(),
                "metric_types": ",".join(USER_METRICS),
                "split_field": "NO_SPLIT",
            },
        )
        days = (body.get("all") or {}).get("daily_metrics") or []
        if not days:
            self.empty(f"pinterest {account.external_id} analytics {part.start}..{part.end}")
        for entry in days:
            try:
                day = dt.date.fromisoformat(str(entry.get("date")))
            except ValueError:
                continue
            if entry.get("data_status") != "READY":
                self.empty(f"pinterest {account.external_id} {day}: {entry.get('data_status')}")
                continue
            for name, raw in (entry.get("metrics") or {}).items():
                metric = self.fields.get(f"user_account_analytics.{name}")
                value = number(raw)
                if metric is not None and value is not None:
                    yield DailyMetricRecord(
                        account=account, metric=metric, day=day, value=value, source=self.source()
                    )

    # -- pins ------------------------------------------------------------------------------

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        async for post in self._pins(creds, self._scope(creds), window):
            yield post

    async def public_posts(
        self, creds: Credentials, target: str, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        async for post in self._pins(
            creds, self._scope(creds, self._business_access(target)), window
        ):
            yield post

    async def _pins(
        self, creds: Credentials, scope: dict[str, str], window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        profile = await self._get(creds, "user_account", scope)
        account = self._snapshot(profile).account
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        params: dict[str, Any] = {**scope, "page_size": self.page_size}
        found = False
        while True:
            body = await self._get(creds, "pins", params)
            self.report.pages += 1
            for pin in body.get("items") or []:
                created = parse_time(pin.get("created_at"))
                if in_window(created, window, tz):
                    found = True
                    yield await self._pin(creds, scope, account, pin, created)
            bookmark = body.get("bookmark")
            if not bookmark:
                break
            params = {**params, "bookmark": bookmark}
        if not found:
            self.empty(f"pinterest {account.external_id} pins {window.start}..{window.end}")

    async def _pin(
        self,
        creds: Credentials,
        scope: dict[str, str],
        account: AccountRef,
        pin: dict[str, Any],
        created: dt.datetime | None,
    ) -> PostRecord:
        today = self.today()
        since = max(self._lookback(), created.date() if created else self._lookback())
        whole_life = created is not None and created.date() >= self._lookback()
        wanted = PIN_LIFETIME_METRICS + (PIN_WINDOW_METRICS if whole_life else ())
        body = await self._get(
            creds,
            f"pins/{pin['id']}/analytics",
            {
                **scope,
                "start_date": since.isoformat(),
                "end_date": today.isoformat(),
                "metric_types": ",".join(wanted),
                "app_types": "ALL",
                "split_field": "NO_SPLIT",
            },
        )
        stats = body.get("all") or {}
        metrics: dict[str, float] = {}
        for group, names in (
            ("lifetime_metrics", PIN_LIFETIME_METRICS),
            ("summary_metrics", PIN_WINDOW_METRICS),
        ):
            if group == "summary_metrics" and not whole_life:
                continue
            values = stats.get(group) or {}
            for name in names:
                value = number(values.get(name))
                if value is not None:
                    metrics[self.fields[f"pin_analytics.{name}"]] = value
        if not metrics:
            self.empty(f"pinterest pin {pin['id']} analytics")
        media_type = str((pin.get("media") or {}).get("media_type") or "")
        return PostRecord(
            account=account,
            external_id=str(pin["id"]),
            published_at=created,
            content_type=_CONTENT.get(media_type, "pin"),
            format=pin.get("creative_type") or media_type or None,
            title=pin.get("title") or None,
            text=pin.get("description") or None,
            permalink=f"https://www.pinterest.com/pin/{pin['id']}/",
            snapshot_date=today,
            metrics=metrics,
            source=self.source(),
        )
