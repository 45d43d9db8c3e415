"""Pinterest API v5 connector against a local stand-in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    RateLimited,
    SyncReport,
    Unsupported,
)
from services.ingest.connectors.pinterest import PinterestConnector
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

CREDS = Credentials(access_token="PIN-TOKEN")
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
ERRORS = fixture("pinterest/errors.json")
ACCOUNT = "/v5/user_account"
PINS = "/v5/pins"


def connector(stub: Stub, **kw) -> PinterestConnector:
    return PinterestConnector(
        stub.client(),
        base_url=stub.base_url,
        api_version="v5",
        report=SyncReport(),
        sleep=Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
        **kw,
    )


def pins_stub() -> Stub:
    stub = Stub().on("GET", ACCOUNT, Reply(200, fixture("pinterest/user_account.json")))
    stub.on(
        "GET",
        PINS,
        lambda call: Reply(
            200,
            fixture(
                "pinterest/pins_page2.json"
                if call.params.get("bookmark")
                else "pinterest/pins_page1.json"
            ),
        ),
    )
    analytics = fixture("pinterest/pin_analytics_by_pin.json")

    def pin_analytics(call) -> Reply:
        pin_id = call.path.split("/")[3]
        return Reply(200, analytics.get(pin_id, {"all": {"lifetime_metrics": {}}}))

    for pin_id in (*analytics, "813744226420795001"):
        stub.on("GET", f"/v5/pins/{pin_id}/analytics", pin_analytics)
    return stub


async def test_pins_follow_the_bookmark_until_null() -> None:
    stub = pins_stub()
    pin = connector(stub)
    posts = await collect(pin.posts(CREDS, MARCH))

    listing = [c for c in stub.calls if c.path == PINS]
    assert len(listing) == 2, "bookmark null on page 2: stop"
    assert listing[1].params["bookmark"].startswith("ZXlKd2FXNWZhV1")
    assert listing[0].params["page_size"] == "100"
    assert len(stub.calls) == 1 + 2 + 3  # account, two pages, one analytics call per pin

    video, carousel, photo = posts
    assert video.content_type == "video" and video.format == "VIDEO"
    assert carousel.content_type == "carousel" and photo.content_type == "photo"
    assert video.metrics == {
        "comments": 4,
        "reactions": 19,
        "impressions": 2402,
        "saves": 37,
        "clicks": 88,
        "link_clicks": 12,
    }
    call = next(c for c in stub.calls if "813744226420795884/analytics" in c.path)
    assert call.params["start_date"] == "2026-03-03" and call.params["end_date"] == "2026-03-20"
    assert call.params["metric_types"].split(",") == [
        "TOTAL_COMMENTS",
        "TOTAL_REACTIONS",
        "IMPRESSION",
        "SAVE",
        "PIN_CLICK",
        "OUTBOUND_CLICK",
    ]
    assert video.account.handle == "cafeboreal" and video.published_at == dt.datetime(
        2026, 3, 3, 14, 2, 11, tzinfo=dt.UTC
    )


async def test_pin_older_than_the_lookback_keeps_only_lifetime_counts() -> None:
    stub = pins_stub()
    pin = connector(stub)
    window = FetchWindow(dt.date(2025, 9, 1), dt.date(2025, 12, 31))
    (autumn,) = await collect(pin.posts(CREDS, window))
    assert autumn.external_id == "813744226420795870"
    assert autumn.metrics == {"comments": 2, "reactions": 11}, "a 90-day sum is not a lifetime"
    call = next(c for c in stub.calls if c.path.endswith("813744226420795870/analytics"))
    assert call.params["start_date"] == "2025-12-20"  # the API's 90-day lookback
    assert call.params["metric_types"] == "TOTAL_COMMENTS,TOTAL_REACTIONS"


async def test_account_analytics_ready_days_only() -> None:
    stub = Stub().on("GET", ACCOUNT, Reply(200, fixture("pinterest/user_account.json")))
    stub.on(
        "GET",
        "/v5/user_account/analytics",
        Reply(200, fixture("pinterest/user_account_analytics.json")),
    )
    pin = connector(stub)
    rows = await collect(pin.daily_metrics(CREDS, MARCH))

    call = stub.calls[1]
    assert call.params["metric_types"] == "IMPRESSION,ENGAGEMENT,SAVE,PIN_CLICK,OUTBOUND_CLICK"
    assert (call.params["start_date"], call.params["end_date"]) == ("2026-03-01", "2026-03-03")
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got == {
        ("impressions", "2026-03-01"): 1368,
        ("engagements", "2026-03-01"): 65,
        ("saves", "2026-03-01"): 6,
        ("clicks", "2026-03-01"): 58,
        ("link_clicks", "2026-03-01"): 1,
        ("impressions", "2026-03-02"): 1512,
        ("engagements", "2026-03-02"): 71,
        ("saves", "2026-03-02"): 9,
        ("clicks", "2026-03-02"): 60,
        ("link_clicks", "2026-03-02"): 2,
    }, "rates are not counts; a PROCESSING day is no data"
    assert pin.report.empty_answers == ["pinterest 2783136121146311751 2026-03-03: PROCESSING"]


async def test_analytics_window_is_clamped_to_the_lookback() -> None:
    stub = Stub().on("GET", ACCOUNT, Reply(200, fixture("pinterest/user_account.json")))
    stub.on("GET", "/v5/user_account/analytics", Reply(200, {"all": {"daily_metrics": []}}))
    pin = connector(stub)
    rows = await collect(
        pin.daily_metrics(CREDS, FetchWindow(dt.date(2025, 6, 1), dt.date(2026, 3, 25)))
    )
    assert rows == []
    call = stub.calls[1]
    assert (call.params["start_date"], call.params["end_date"]) == ("2025-12-20", "2026-03-20")
    assert pin.report.empty_answers == [
        "pinterest 2783136121146311751 analytics older than 90 days",
        "pinterest 2783136121146311751 analytics 2025-12-20..2026-03-20",
    ]


async def test_rate_limit_waits_for_retry_after() -> None:
    stub = Stub().on("GET", ACCOUNT, Reply(429, ERRORS["rate_limited"], {"retry-after": "30"}))
    pin = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await pin.profile(CREDS)
    assert caught.value.retry_at == NOW + dt.timedelta(seconds=30)
    assert len(stub.calls) == 1


async def test_authentication_failed_is_auth_expired() -> None:
    stub = Stub().on("GET", ACCOUNT, Reply(401, ERRORS["unauthorized"]))
    with pytest.raises(AuthExpired):
        await connector(stub).account(CREDS)


async def test_no_pins_in_the_window_is_no_data() -> None:
    stub = Stub().on("GET", ACCOUNT, Reply(200, fixture("pinterest/user_account.json")))
    stub.on("GET", PINS, Reply(200, {"items": [], "bookmark": None}))
    pin = connector(stub)
    assert await collect(pin.posts(CREDS, MARCH)) == []
    assert pin.report.empty_answers == ["pinterest 2783136121146311751 pins 2026-03-01..2026-03-03"]


async def test_profile_counts() -> None:
    stub = Stub().on("GET", ACCOUNT, Reply(200, fixture("pinterest/user_account.json")))
    snap = await connector(stub).profile(CREDS)
    assert snap.metrics == {"followers": 1280, "following": 347, "posts_total": 339}
    assert snap.account.name == "Café Boréal" and snap.url == "https://cafeboreal.example"


async def test_peer_through_business_access() -> None:
    stub = Stub().on(
        "GET", ACCOUNT, Reply(200, fixture("pinterest/user_account_business_access.json"))
    )
    snap = await connector(stub).public_profile(CREDS, "549755885175")
    assert stub.calls[0].params == {"ad_account_id": "549755885175"}
    assert snap.metrics["followers"] == 4410 and snap.account.handle == "bruleriedunord"


async def test_peer_without_business_access_is_unsupported() -> None:
    stub = Stub()
    pin = connector(stub)
    with pytest.raises(Unsupported, match="exposes no other account's data"):
        await pin.public_profile(CREDS, "bruleriedunord")
    with pytest.raises(Unsupported):
        await collect(pin.public_posts(CREDS, "bruleriedunord", MARCH))
    assert stub.calls == []
