"""X (Twitter) API v2.

* ``profile`` / ``public_profile``: ``GET /2/users/me`` (or ``/2/users/{id}``) and
  ``GET /2/users/by/username/{username}`` with ``public_metrics``.
* ``posts`` / ``public_posts``: ``GET /2/users/{id}/tweets`` with ``public_metrics``,
  ``max_results=100`` and ``start_time``/``end_time``, following ``meta.next_token`` as
  ``pagination_token`` until it is absent. Reposts and replies are left out: the audit
  measures the account's own posts.
* ``daily_metrics``: X API v2 has no account-level daily metrics; it yields nothing.

Limits: each endpoint's ``x-rate-limit-remaining``/``x-rate-limit-reset`` are recorded;
at 0 the next call to that endpoint raises :class:`RateLimited` until the reset instead of
being sent. A 429 is :class:`RateLimited` until ``x-rate-limit-reset``, except the usage
cap (``…/problems/usage-capped``): :class:`QuotaExhausted`, not retried, with the time it
can resume.

Credentials: a user-context token (``users/me``) or an app token with ``extra["user_id"]``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from services.ingest.connectors._common import epoch, number, parse_time, total, zone
from services.ingest.connectors._http import HttpConnector
from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    QuotaExhausted,
    RateLimited,
)
from shared import metrics_catalogue
from shared.schemas.ingest import (
    AccountRef,
    DailyMetricRecord,
    Network,
    PostRecord,
    ProfileSnapshot,
)

USER_FIELDS = "id,name,username,description,url,public_metrics"
TWEET_FIELDS = "created_at,public_metrics,attachments,entities"
PAGE_SIZE = 100
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_ID = re.compile(r"/\d+(?=/|$)")


def _month_after(moment: dt.datetime) -> dt.datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


class XConnector(HttpConnector):
    provider = "x_api"
    network = Network.x

    def __init__(self, http: httpx.AsyncClient, **kw: Any) -> None:
        super().__init__(http, **kw)
        self.fields = metrics_catalogue.field_map(self.network.value)
        self._limits: dict[str, dict[str, Any]] = {}

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"

    # -- limits --------------------------------------------------------------------------

    def _endpoint(self, url: str) -> str:
        path = urlsplit(url).path
        prefix = f"/{self.api_version}/"
        path = path.split(prefix, 1)[-1]
        path = re.sub(r"(users/by/username/)[^/]+", r"\1:username", path)
        return _ID.sub("/:id", "/" + path).lstrip("/")

    def _before_request(self, url: str) -> None:
        limit = self._limits.get(self._endpoint(url))
        if limit and limit.get("remaining") == 0:
            reset = limit.get("reset")
            if isinstance(reset, dt.datetime) and reset > self.now():
                raise RateLimited(
                    "x-rate-limit-remaining is 0",
                    provider=self.provider,
                    retry_at=reset,
                    detail={"endpoint": self._endpoint(url)},
                )

    def _after_response(self, response: httpx.Response) -> None:
        remaining = number(response.headers.get("x-rate-limit-remaining"))
        if remaining is None:
            return
        reset = epoch(response.headers.get("x-rate-limit-reset"))
        endpoint = self._endpoint(str(response.request.url))
        self._limits[endpoint] = {
            "limit": number(response.headers.get("x-rate-limit-limit")),
            "remaining": int(remaining),
            "reset": reset,
        }
        self.report.rate_limit[endpoint] = {
            "limit": number(response.headers.get("x-rate-limit-limit")),
            "remaining": int(remaining),
            "reset": reset.isoformat() if reset else None,
        }

    # -- calls ---------------------------------------------------------------------------

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
        if response.status_code == 429:
            self._raise_429(response, body)
        if response.status_code == 401:
            raise AuthExpired(
                self._message(body), provider=self.provider, detail=self._detail(body)
            )
        if response.status_code >= 400:
            raise ProviderError(
                self._message(body),
                provider=self.provider,
                status=response.status_code,
                detail=self._detail(body),
            )
        if not isinstance(body, dict):
            raise ProviderError("unexpected answer", provider=self.provider)
        if "data" not in body and body.get("errors"):
            # 200 with only errors: e.g. a username that does not exist
            raise ProviderError(
                self._message(body), provider=self.provider, status=404, detail=self._detail(body)
            )
        return body

    def _raise_429(self, response: httpx.Response, body: Any) -> None:
        problem = body if isinstance(body, dict) else {}
        kind = str(problem.get("type") or "")
        if kind.endswith("/usage-capped") or problem.get("title") == "UsageCapExceeded":
            raise QuotaExhausted(
                str(problem.get("detail") or "usage cap exceeded"),
                provider=self.provider,
                resume_at=self._cap_resumes(response, problem),
                detail={k: problem.get(k) for k in ("title", "period", "scope") if k in problem},
            )
        reset = epoch(response.headers.get("x-rate-limit-reset"))
        now = self.now()
        if reset is None:
            reset = now + dt.timedelta(minutes=15)  # X's windows are 15 minutes
        elif reset <= now:
            # The header is whole seconds: a reset already passed by the time the answer
            # is read means the window has renewed, so call again shortly.
            reset = now + dt.timedelta(seconds=1)
        raise RateLimited(
            self._message(body),
            provider=self.provider,
            retry_at=reset,
            detail={"endpoint": self._endpoint(str(response.request.url))},
        )

    def _cap_resumes(self, response: httpx.Response, problem: dict[str, Any]) -> dt.datetime | None:
        """When a capped account can call again: the 24-hour reset headers, else the period."""
        for header in ("x-user-limit-24hour-reset", "x-app-limit-24hour-reset"):
            moment = epoch(response.headers.get(header))
            if moment is not None:
                return moment
        period = str(problem.get("period") or "").lower()
        now = self.now()
        if period == "monthly":
            return _month_after(now)  # the cap renews with the billing month
        if period == "daily":
            return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        return None

    @staticmethod
    def _message(body: Any) -> str:
        if isinstance(body, dict):
            if body.get("detail"):
                return str(body["detail"])
            errors = body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
                return str(first.get("detail") or first.get("message") or first)
            if body.get("title"):
                return str(body["title"])
        return "X API error"

    @staticmethod
    def _detail(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {}
        return {k: body[k] for k in ("title", "type", "status") if k in body}

    # -- accounts ------------------------------------------------------------------------

    def _me(self, creds: Credentials) -> str:
        user_id = creds.extra.get("user_id")
        return f"users/{quote(user_id)}" if user_id else "users/me"

    async def account(self, creds: Credentials) -> AccountRef:
        return (await self.profile(creds)).account

    async def profile(self, creds: Credentials) -> ProfileSnapshot:
        body = await self._get(creds, self._me(creds), {"user.fields": USER_FIELDS})
        return self._snapshot(body["data"])

    async def public_profile(self, creds: Credentials, target: str) -> ProfileSnapshot:
        body = await self._get(
            creds, f"users/by/username/{self._username(target)}", {"user.fields": USER_FIELDS}
        )
        return self._snapshot(body["data"])

    @staticmethod
    def _username(target: str) -> str:
        name = target.strip().lstrip("@")
        if not _USERNAME.match(name):
            raise ProviderError(f"not an X username: {target!r}", provider="x_api")
        return name

    def _snapshot(self, user: dict[str, Any]) -> ProfileSnapshot:
        public = user.get("public_metrics") or {}
        metrics: dict[str, float] = {}
        for field in ("followers_count", "following_count", "tweet_count"):
            value = number(public.get(field))
            if value is not None:
                metrics[self.fields[f"user.public_metrics.{field}"]] = value
        return ProfileSnapshot(
            account=AccountRef(
                network=self.network,
                external_id=str(user["id"]),
                name=user.get("name"),
                handle=user.get("username"),
            ),
            observed_on=self.today(),
            metrics=metrics,
            bio=user.get("description"),
            url=user.get("url"),
            source=self.source(),
        )

    # -- posts ---------------------------------------------------------------------------

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        """Nothing: X API v2 offers no daily account metrics (followers: ``profile``)."""
        return
        yield  # an empty async generator

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        me = await self.profile(creds)
        async for post in self._tweets(creds, me.account, window):
            yield post

    async def public_posts(
        self, creds: Credentials, target: str, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        who = await self.public_profile(creds, target)
        async for post in self._tweets(creds, who.account, window):
            yield post

    async def _tweets(
        self, creds: Credentials, account: AccountRef, window: FetchWindow
    ) -> AsyncIterator[PostRecord]:
        tz = zone(creds.extra.get("timezone")) or dt.UTC
        start = dt.datetime.combine(window.start, dt.time(), tz).astimezone(dt.UTC)
        end = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time(), tz).astimezone(
            dt.UTC
        )
        end = min(end - dt.timedelta(seconds=1), self.now() - dt.timedelta(seconds=10))
        if end <= start:
            return
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_time": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": TWEET_FIELDS,
            "expansions": "attachments.media_keys",
            "media.fields": "type,duration_ms",
            "exclude": "retweets,replies",
        }
        found = False
        while True:
            body = await self._get(creds, f"users/{quote(account.external_id)}/tweets", params)
            self.report.pages += 1
            media = {m.get("media_key"): m for m in (body.get("includes") or {}).get("media") or []}
            for tweet in body.get("data") or []:
                found = True
                yield self._post(account, tweet, media)
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
            params = {**params, "pagination_token": token}
        if not found:
            self.empty(f"x {account.external_id} posts {window.start}..{window.end}")

    def _post(
        self, account: AccountRef, tweet: dict[str, Any], media: dict[Any, dict[str, Any]]
    ) -> PostRecord:
        keys = (tweet.get("attachments") or {}).get("media_keys") or []
        kinds = [str((media.get(k) or {}).get("type") or "") for k in keys]
        duration = None
        if not kinds:
            urls = (tweet.get("entities") or {}).get("urls") or []
            links = [u for u in urls if "x.com/" not in str(u.get("expanded_url") or "")]
            content_type, fmt = ("link", "link") if links else ("text", "text")
        elif len(kinds) > 1:
            content_type, fmt = "carousel", ",".join(kinds)
        else:
            fmt = kinds[0]
            content_type = {"photo": "photo", "video": "video", "animated_gif": "video"}.get(
                fmt, "other"
            )
            ms = number((media.get(keys[0]) or {}).get("duration_ms"))
            duration = ms / 1000 if ms is not None else None
        public = tweet.get("public_metrics") or {}
        counts = {k: number(public.get(k)) for k in public}
        pm = "tweet.public_metrics."
        values = {
            f"{pm}impression_count": counts.get("impression_count"),
            f"{pm}like_count": counts.get("like_count"),
            f"{pm}reply_count": counts.get("reply_count"),
            f"{pm}retweet_count+quote_count": total(
                counts.get("retweet_count"), counts.get("quote_count")
            ),
            f"{pm}bookmark_count": counts.get("bookmark_count"),
            f"{pm}like+reply+retweet+quote+bookmark": total(
                counts.get("like_count"),
                counts.get("reply_count"),
                counts.get("retweet_count"),
                counts.get("quote_count"),
                counts.get("bookmark_count"),
            ),
        }
        return PostRecord(
            account=account,
            external_id=str(tweet["id"]),
            published_at=parse_time(tweet.get("created_at")),
            content_type=content_type,
            format=fmt,
            text=tweet.get("text"),
            permalink=f"https://x.com/{account.handle or 'i'}/status/{tweet['id']}",
            duration_seconds=duration,
            snapshot_date=self.today(),
            metrics={self.fields[k]: v for k, v in values.items() if v is not None},
            source=self.source(),
        )
