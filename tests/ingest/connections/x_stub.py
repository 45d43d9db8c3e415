"""A stand-in for X: its OAuth 2.0 authorization server (PKCE) and a slice of API v2.

Served on a free loopback port by the tests (tests/servers.py). Formats are X's own:
the authorization-code + PKCE flow with rotating refresh tokens
(docs.x.com "OAuth 2.0 Authorization Code Flow with PKCE"), ``/2/users/me`` and
``/2/users/:id/tweets`` with ``public_metrics`` and ``meta.next_token`` paging, the
``x-rate-limit-*`` headers, the v2 problem bodies of a 429 (rate limit, usage cap) and a
401. ``TinyXConnector`` is the tests' own small provider behind the connector protocol.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    SyncReport,
)
from shared.schemas.ingest import AccountRef, DailyMetricRecord, Network, PostRecord, Source

USER = {
    "id": "2244994945",
    "name": "X Developers",
    "username": "XDevelopers",
    "public_metrics": {
        "followers_count": 513958,
        "following_count": 2039,
        "tweet_count": 3635,
        "listed_count": 1672,
    },
}


def make_tweets(n: int, newest: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        created = newest - dt.timedelta(hours=7 * i)
        out.append(
            {
                "id": str(1501258597237342208 - i * 1000),
                "text": f"Post {i} — café ☕ #{i}",
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "author_id": USER["id"],
                "edit_history_tweet_ids": [str(1501258597237342208 - i * 1000)],
                "public_metrics": {
                    "retweet_count": 10 + i,
                    "reply_count": 5,
                    "like_count": 100 + 3 * i,
                    "quote_count": 2,
                    "bookmark_count": 3,
                    "impression_count": 1500 + 10 * i,
                },
            }
        )
    return out


@dataclass
class XStub:
    client_id: str = "balise-test-client"
    client_secret: str = field(default_factory=lambda: "cs-" + secrets.token_urlsafe(24))
    token_ttl: int = 7200
    page_size: int = 2
    tweets: list[dict[str, Any]] = field(default_factory=list)
    # behaviour switches
    rate_limit_next: int = 0  # answer 429 (remaining 0) to this many tweet pages
    rate_limit_reset_in: float = 1.0
    usage_capped: bool = False
    unauthorized: bool = False
    fail_5xx_next: int = 0
    # state
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    issued: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    # ---------------------------------------------------------------- OAuth

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        self.calls.append(("GET", "/i/oauth2/authorize", dict(q)))
        required = ("response_type", "client_id", "redirect_uri", "state", "code_challenge")
        if any(not q.get(k) for k in required) or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q["client_id"] != self.client_id or q["response_type"] != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "redirect_uri": q["redirect_uri"],
            "scope": q.get("scope", ""),
        }
        # The user consents at once: X redirects back with the code and the state.
        sep = "&" if "?" in q["redirect_uri"] else "?"
        target = q["redirect_uri"] + sep + urlencode({"state": q["state"], "code": code})
        return RedirectResponse(target, status_code=302)

    def _client_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        raw = base64.b64decode(header[6:]).decode()
        return raw == f"{self.client_id}:{self.client_secret}"

    def _issue(self, scope: str) -> dict[str, Any]:
        access = "xat-" + secrets.token_urlsafe(32)
        refresh = "xrt-" + secrets.token_urlsafe(32)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        body = {
            "token_type": "bearer",
            "expires_in": self.token_ttl,
            "access_token": access,
            "scope": scope,
            "refresh_token": refresh,
        }
        self.issued.append(body)
        return body

    async def token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.calls.append(("POST", "/2/oauth2/token", {k: str(v) for k, v in form.items()}))
        if not self._client_ok(request):
            return JSONResponse(
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
                status_code=401,
            )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            pending = self.codes.pop(str(form.get("code")), None)
            if pending is None or pending["redirect_uri"] != form.get("redirect_uri"):
                return JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the authorization code was invalid.",
                    },
                    status_code=400,
                )
            verifier = str(form.get("code_verifier", ""))
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != pending["challenge"]:
                return JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the code verifier was invalid.",
                    },
                    status_code=400,
                )
            return JSONResponse(self._issue(pending["scope"]))
        if grant == "refresh_token":
            old = str(form.get("refresh_token"))
            if old not in self.refresh_tokens:
                return JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                    status_code=400,
                )
            self.refresh_tokens.discard(old)  # X rotates refresh tokens
            return JSONResponse(self._issue("tweet.read users.read offline.access"))
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def revoke_everything(self) -> None:
        self.access_tokens.clear()
        self.refresh_tokens.clear()

    # ---------------------------------------------------------------- API v2

    def _limits(self, remaining: int = 899) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "900",
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time() + self.rate_limit_reset_in + 1)),
        }

    def _auth_error(self, request: Request) -> Response | None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.unauthorized or token not in self.access_tokens:
            return JSONResponse(
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
                status_code=401,
            )
        return None

    async def me(self, request: Request) -> Response:
        self.calls.append(("GET", "/2/users/me", dict(request.query_params)))
        return self._auth_error(request) or JSONResponse({"data": USER}, headers=self._limits())

    async def user(self, request: Request) -> Response:
        self.calls.append(("GET", request.url.path, dict(request.query_params)))
        denied = self._auth_error(request)
        if denied:
            return denied
        if request.path_params["uid"] != USER["id"]:
            return JSONResponse(
                {
                    "errors": [
                        {
                            "value": request.path_params["uid"],
                            "detail": "Could not find user with id.",
                            "title": "Not Found Error",
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
                headers=self._limits(),
            )
        return JSONResponse({"data": USER}, headers=self._limits())

    async def user_tweets(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.calls.append(("GET", request.url.path, q))
        denied = self._auth_error(request)
        if denied:
            return denied
        if self.fail_5xx_next > 0:
            self.fail_5xx_next -= 1
            return JSONResponse(
                {"title": "Service Unavailable", "type": "about:blank", "status": 503},
                status_code=503,
            )
        if self.usage_capped:
            return JSONResponse(
                {
                    "title": "UsageCapExceeded",
                    "detail": "Usage cap exceeded: Monthly product cap",
                    "type": "https://api.twitter.com/2/problems/usage-capped",
                    "period": "Monthly",
                    "scope": "Product",
                },
                status_code=429,
            )
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return JSONResponse(
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                },
                status_code=429,
                headers=self._limits(remaining=0),
            )
        start = q.get("start_time")
        end = q.get("end_time")
        rows = [
            t
            for t in self.tweets
            if (not start or t["created_at"] >= start) and (not end or t["created_at"] <= end)
        ]
        offset = (
            int(base64.b64decode(q["pagination_token"]).decode())
            if q.get("pagination_token")
            else 0
        )
        page = rows[offset : offset + self.page_size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"], meta["oldest_id"] = page[0]["id"], page[-1]["id"]
        if offset + self.page_size < len(rows):
            meta["next_token"] = base64.b64encode(str(offset + self.page_size).encode()).decode()
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
        return JSONResponse(body, headers=self._limits())

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/i/oauth2/authorize", self.authorize),
                Route("/2/oauth2/token", self.token, methods=["POST"]),
                Route("/2/users/me", self.me),
                Route("/2/users/{uid}", self.user),
                Route("/2/users/{uid}/tweets", self.user_tweets),
            ]
        )

    def tweet_pages_fetched(self) -> int:
        return sum(1 for m, p, _ in self.calls if p.endswith("/tweets"))


class TinyXConnector:
    """The tests' own small X provider behind the connector protocol (not the real one)."""

    provider = "x_api"
    network = Network.x

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_version: str,
        report: SyncReport | None = None,
    ) -> None:
        self.http = http
        self.base = f"{base_url.rstrip('/')}/{api_version}"
        self.report = report if report is not None else SyncReport()
        self.report.api_version = api_version

    def _source(self) -> Source:
        return Source(kind="api", provider=self.provider, version="2")

    async def _get(self, creds: Credentials, path: str, params: dict[str, Any]) -> dict[str, Any]:
        resp = await self.http.get(
            f"{self.base}/{path}",
            params=params,
            headers={"Authorization": f"Bearer {creds.access_token}"},
        )
        self.report.requests += 1
        if "x-rate-limit-remaining" in resp.headers:
            self.report.rate_limit[path.split("/")[-1]] = {
                "remaining": int(resp.headers["x-rate-limit-remaining"]),
                "reset": resp.headers.get("x-rate-limit-reset"),
            }
        body = resp.json()
        if resp.status_code == 429:
            if str(body.get("type", "")).endswith("/usage-capped"):
                today = dt.datetime.now(dt.UTC)
                first = dt.datetime(
                    today.year + (today.month == 12), today.month % 12 + 1, 1, tzinfo=dt.UTC
                )
                raise QuotaExhausted(body["detail"], provider=self.provider, resume_at=first)
            reset = dt.datetime.fromtimestamp(int(resp.headers["x-rate-limit-reset"]), dt.UTC)
            raise RateLimited("x-rate-limit-remaining is 0", provider=self.provider, retry_at=reset)
        if resp.status_code == 401:
            raise AuthExpired("the token was refused (401)", provider=self.provider)
        if resp.status_code >= 500:
            raise ProviderError(
                f"HTTP {resp.status_code}",
                provider=self.provider,
                status=resp.status_code,
                retryable=True,
            )
        if resp.status_code >= 400:
            raise ProviderError(
                f"HTTP {resp.status_code}", provider=self.provider, status=resp.status_code
            )
        return dict(body)

    async def account(self, creds: Credentials) -> AccountRef:
        user = (await self._get(creds, "users/me", {"user.fields": "public_metrics"}))["data"]
        return AccountRef(
            network=Network.x, external_id=user["id"], name=user["name"], handle=user["username"]
        )

    async def daily_metrics(
        self, creds: Credentials, window: FetchWindow
    ) -> AsyncIterator[DailyMetricRecord]:
        # X keeps no daily history: today's follower total is the day's value.
        user = (await self._get(creds, "users/me", {"user.fields": "public_metrics"}))["data"]
        ref = AccountRef(network=Network.x, external_id=user["id"])
        yield DailyMetricRecord(
            account=ref,
            metric="followers",
            day=window.end,
            value=float(user["public_metrics"]["followers_count"]),
            source=self._source(),
        )

    async def posts(self, creds: Credentials, window: FetchWindow) -> AsyncIterator[PostRecord]:
        uid = creds.extra["user_id"]
        ref = AccountRef(network=Network.x, external_id=uid)
        params: dict[str, Any] = {
            "tweet.fields": "created_at,public_metrics",
            "max_results": 100,
            "start_time": f"{window.start.isoformat()}T00:00:00Z",
            "end_time": f"{window.end.isoformat()}T23:59:59Z",
        }
        while True:
            body = await self._get(creds, f"users/{uid}/tweets", params)
            self.report.pages += 1
            for t in body.get("data", []):
                m = t["public_metrics"]
                metrics = {
                    "reactions": m["like_count"],
                    "comments": m["reply_count"],
                    "shares": m["retweet_count"],
                }
                if "impression_count" in m:
                    metrics["impressions"] = m["impression_count"]
                yield PostRecord(
                    account=ref,
                    external_id=t["id"],
                    published_at=dt.datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")),
                    content_type="text",
                    text=t["text"],
                    snapshot_date=dt.datetime.now(dt.UTC).date(),
                    metrics={k: float(v) for k, v in metrics.items()},
                    source=self._source(),
                )
            token = body.get("meta", {}).get("next_token")
            if not token:
                return
            params["pagination_token"] = token


def tiny_x_factory(base_url: str):
    """A connector factory for the sync job's context: the tiny connector on the stub."""

    def build(http: httpx.AsyncClient, settings: Any, report: SyncReport) -> TinyXConnector:
        return TinyXConnector(http, base_url=base_url, api_version="2", report=report)

    return build
