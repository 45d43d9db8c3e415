"""X API v2 connector against a local stand-in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    SyncReport,
)
from services.ingest.connectors.x import XConnector
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

ME = "1479232167362461698"
TWEETS = f"/2/users/{ME}/tweets"
CREDS = Credentials(access_token="X-USER-TOKEN", extra={"timezone": "America/Toronto"})
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
RESET = dt.datetime(2026, 3, 20, 12, 45, tzinfo=dt.UTC)
LIMITS = fixture("x/limits_and_errors.json")


def connector(stub: Stub) -> XConnector:
    return XConnector(
        stub.client(),
        base_url=stub.base_url,
        api_version="2",
        report=SyncReport(),
        sleep=Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
    )


def tweets_stub(page1_headers: dict | None = None) -> Stub:
    stub = Stub().on("GET", "/2/users/me", Reply(200, fixture("x/user_me.json")))
    stub.on(
        "GET",
        TWEETS,
        lambda call: (
            Reply(200, fixture("x/tweets_page2.json"), LIMITS["headers_ok"])
            if call.params.get("pagination_token")
            else Reply(200, fixture("x/tweets_page1.json"), page1_headers or LIMITS["headers_ok"])
        ),
    )
    return stub


async def test_tweets_follow_next_token_to_the_end() -> None:
    stub = tweets_stub()
    x = connector(stub)
    posts = await collect(x.posts(CREDS, MARCH))

    assert stub.paths() == ["/2/users/me", TWEETS, TWEETS], "no next_token on page 2: stop"
    first, second = stub.calls[1], stub.calls[2]
    assert first.params["max_results"] == "100"
    assert first.params["start_time"] == "2026-03-01T05:00:00Z"  # Toronto midnight
    assert first.params["end_time"] == "2026-03-04T04:59:59Z"
    assert first.params["exclude"] == "retweets,replies"
    assert "public_metrics" in first.params["tweet.fields"]
    assert "pagination_token" not in first.params
    assert second.params["pagination_token"] == "7140dibdnow9c7btw4539n0vybdnx1"
    assert first.headers["authorization"] == "Bearer X-USER-TOKEN"

    photo, video, link = posts
    assert photo.metrics == {
        "impressions": 6210,
        "reactions": 140,
        "comments": 5,
        "shares": 14,
        "saves": 9,
        "engagements": 168,
    }
    assert photo.content_type == "photo" and photo.account.handle == "cafeboreal"
    assert photo.permalink == "https://x.com/cafeboreal/status/1897000000000000003"
    assert video.content_type == "video" and video.duration_seconds == 47.8
    assert link.content_type == "link"
    assert x.report.rate_limit["users/:id/tweets"]["remaining"] == 847
    assert x.report.pages == 2


async def test_remaining_zero_stops_before_the_next_request() -> None:
    stub = tweets_stub(page1_headers=LIMITS["headers_exhausted"])
    x = connector(stub)
    seen = []
    with pytest.raises(RateLimited) as caught:
        async for post in x.posts(CREDS, MARCH):
            seen.append(post.external_id)
    assert caught.value.retry_at == RESET
    assert len(seen) == 2, "page 1 was delivered before waiting"
    assert stub.paths() == ["/2/users/me", TWEETS], "the refused call is never sent"


async def test_remaining_zero_on_the_last_page_is_fine() -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(200, fixture("x/user_me.json")))
    stub.on("GET", TWEETS, Reply(200, fixture("x/tweets_page2.json"), LIMITS["headers_exhausted"]))
    x = connector(stub)
    assert len(await collect(x.posts(CREDS, MARCH))) == 1
    # …but the next call to that endpoint waits for the reset, other endpoints do not.
    with pytest.raises(RateLimited):
        await collect(x.posts(CREDS, MARCH))
    assert stub.paths() == ["/2/users/me", TWEETS, "/2/users/me"]


async def test_429_waits_until_the_reset() -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(200, fixture("x/user_me.json")))
    stub.on("GET", TWEETS, Reply(429, LIMITS["too_many_requests"], LIMITS["headers_exhausted"]))
    x = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await collect(x.posts(CREDS, MARCH))
    assert caught.value.retry_at == RESET
    assert stub.paths().count(TWEETS) == 1, "a 429 is not retried in place"


@pytest.mark.parametrize(
    ("headers", "waits"),
    [
        # The whole-second reset header already passed: the window renewed, call again soon.
        ({**LIMITS["headers_exhausted"], "x-rate-limit-reset": str(int(NOW.timestamp()))}, 1),
        # No reset header at all: X's window is 15 minutes.
        ({}, 15 * 60),
    ],
    ids=["reset-passed", "no-reset-header"],
)
async def test_429_without_a_future_reset(headers: dict, waits: int) -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(200, fixture("x/user_me.json")))
    stub.on("GET", TWEETS, Reply(429, LIMITS["too_many_requests"], headers))
    x = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await collect(x.posts(CREDS, MARCH))
    assert caught.value.retry_at == NOW + dt.timedelta(seconds=waits)


async def test_usage_cap_stops_and_says_when_it_resumes() -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(429, LIMITS["usage_capped_monthly"]))
    x = connector(stub)
    with pytest.raises(QuotaExhausted) as caught:
        await x.profile(CREDS)
    assert caught.value.resume_at == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    assert caught.value.detail == {
        "title": "UsageCapExceeded",
        "period": "Monthly",
        "scope": "Product",
    }
    assert len(stub.calls) == 1


async def test_usage_cap_prefers_the_24_hour_reset_header() -> None:
    headers = {"x-app-limit-24hour-reset": "1774051200"}
    stub = Stub().on("GET", "/2/users/me", Reply(429, LIMITS["usage_capped_monthly"], headers))
    x = connector(stub)
    with pytest.raises(QuotaExhausted) as caught:
        await x.profile(CREDS)
    assert caught.value.resume_at == dt.datetime(2026, 3, 21, tzinfo=dt.UTC)


async def test_unauthorized_is_auth_expired() -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(401, LIMITS["unauthorized"]))
    x = connector(stub)
    with pytest.raises(AuthExpired):
        await x.profile(CREDS)


async def test_no_tweets_in_the_window_is_no_data() -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(200, fixture("x/user_me.json")))
    stub.on("GET", TWEETS, Reply(200, fixture("x/tweets_empty.json")))
    x = connector(stub)
    assert await collect(x.posts(CREDS, MARCH)) == []
    assert x.report.empty_answers == [f"x {ME} posts 2026-03-01..2026-03-03"]


async def test_no_daily_account_metrics_on_x() -> None:
    stub = Stub()
    x = connector(stub)
    assert await collect(x.daily_metrics(CREDS, MARCH)) == []
    assert stub.calls == []


async def test_public_metrics_of_another_user() -> None:
    stub = Stub().on(
        "GET", "/2/users/by/username/bruleriedunord", Reply(200, fixture("x/user_by_username.json"))
    )
    x = connector(stub)
    snap = await x.public_profile(CREDS, "@bruleriedunord")
    assert snap.metrics == {"followers": 10455, "following": 212, "posts_total": 4310}
    assert snap.account.external_id == "2244994945" and snap.observed_on == NOW.date()


async def test_public_posts_of_another_user() -> None:
    stub = Stub().on(
        "GET", "/2/users/by/username/bruleriedunord", Reply(200, fixture("x/user_by_username.json"))
    )
    stub.on("GET", "/2/users/2244994945/tweets", Reply(200, fixture("x/tweets_page2.json")))
    x = connector(stub)
    (post,) = await collect(x.public_posts(CREDS, "bruleriedunord", MARCH))
    assert post.account.handle == "bruleriedunord" and post.metrics["impressions"] == 611


async def test_unknown_username_is_a_clear_error() -> None:
    stub = Stub().on(
        "GET", "/2/users/by/username/nobody_here_42", Reply(200, LIMITS["user_not_found"])
    )
    x = connector(stub)
    with pytest.raises(ProviderError, match="Could not find user") as caught:
        await x.public_profile(CREDS, "nobody_here_42")
    assert caught.value.status == 404 and not caught.value.retryable
