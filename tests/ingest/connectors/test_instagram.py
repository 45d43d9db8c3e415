"""Instagram connector against a local Graph API stand-in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    RateLimited,
    SyncReport,
)
from services.ingest.connectors.instagram import InstagramConnector
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

IG = "17841405822304914"
INSIGHTS = f"/v27.0/{IG}/insights"
MEDIA = f"/v27.0/{IG}/media"
CREDS = Credentials(
    access_token="IG-TOKEN", extra={"ig_user_id": IG, "timezone": "America/Toronto"}
)
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))


def connector(stub: Stub, **kw) -> InstagramConnector:
    return InstagramConnector(
        stub.client(),
        base_url=stub.base_url,
        api_version="v27.0",
        report=SyncReport(),
        sleep=Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
        **kw,
    )


def error(name: str, status: int = 400, headers: dict | None = None) -> Reply:
    return Reply(status, fixture("instagram/errors.json")[name], headers or {})


def account_insights(call) -> Reply:
    if call.params.get("metric_type") == "total_value":
        by_day = fixture("instagram/user_insights_totals_by_day.json")
        body = by_day.get(call.params["since"], {"data": []})
        asked = call.params["metric"].split(",")
        return Reply(200, {"data": [e for e in body["data"] if e["name"] in asked]})
    return Reply(200, fixture("instagram/user_insights_series.json"))


def media_stub() -> Stub:
    stub = Stub()
    stub.on(
        "GET",
        MEDIA,
        lambda call: Reply(
            200,
            fixture(
                "instagram/media_page2.json"
                if call.params.get("after")
                else "instagram/media_page1.json"
            ),
        ),
    )
    by_media = fixture("instagram/media_insights_by_media.json")
    for media_id, body in by_media.items():
        stub.on("GET", f"/v27.0/{media_id}/insights", Reply(200, body))
    return stub


async def test_daily_metrics_series_and_daily_totals() -> None:
    stub = Stub().on("GET", INSIGHTS, account_insights)
    ig = connector(stub)
    rows = await collect(ig.daily_metrics(CREDS, MARCH))

    # one time-series call for the 3 days, then one total_value call per day
    assert len(stub.calls) == 1 + 3
    assert stub.calls[0].params["metric"] == "reach,follower_count"
    assert [c.params["since"] for c in stub.calls[1:]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert all(
        c.params["until"]
        == (dt.date.fromisoformat(c.params["since"]) + dt.timedelta(days=1)).isoformat()
        for c in stub.calls[1:]
    )
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("reach", "2026-03-01")] == 1204
    assert got[("follows", "2026-03-02")] == 14  # follower_count is new followers per day
    assert got[("views", "2026-03-02")] == 2893
    assert got[("engagements", "2026-03-03")] == 40
    assert got[("saves", "2026-03-01")] == 3
    assert len(rows) == 2 * 3 + 6 * 3


async def test_retired_impressions_becomes_views() -> None:
    def insights(call) -> Reply:
        if "impressions" in call.params["metric"].split(","):
            return error("impressions_retired")
        return account_insights(call)

    stub = Stub().on("GET", INSIGHTS, insights)
    ig = connector(stub, account_totals=("impressions", "likes"))
    window = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    rows = await collect(ig.daily_metrics(CREDS, window))

    asked = [c.params["metric"] for c in stub.calls if c.params.get("metric_type")]
    # The message names the metric: one refused call, then the replacement for good.
    assert asked == ["impressions,likes", "views,likes", "views,likes"]
    (note,) = ig.report.retired_metrics
    assert (note.retired, note.replacement) == ("impressions", "views")
    assert {(r.metric, r.day.isoformat()) for r in rows if r.metric == "views"} == {
        ("views", "2026-03-01"),
        ("views", "2026-03-02"),
    }


async def test_refusal_listing_the_allowed_metrics_names_the_retired_one() -> None:
    def insights(call) -> Reply:
        if "impressions" in call.params["metric"].split(","):
            return error("metric_must_be_one_of")
        return account_insights(call)

    stub = Stub().on("GET", INSIGHTS, insights)
    ig = connector(stub, account_series=("reach", "impressions"))
    rows = await collect(ig.daily_metrics(CREDS, MARCH))
    series_calls = [c.params["metric"] for c in stub.calls if not c.params.get("metric_type")]
    assert series_calls == ["reach,impressions", "reach,views"]
    assert [n.retired for n in ig.report.retired_metrics] == ["impressions"]
    assert any(r.metric == "reach" for r in rows)


async def test_media_paging_to_the_end_with_insights() -> None:
    stub = media_stub()
    ig = connector(stub)
    posts = await collect(ig.posts(CREDS, MARCH))

    listing = [c for c in stub.calls if c.path == MEDIA]
    assert len(listing) == 2, "page 2 holds a post older than the window: no third page"
    assert listing[1].params["after"] == "QVFIUmFmdGVyMQ"
    assert len(stub.calls) == 2 + 3
    by_id = {p.external_id: p for p in posts}
    reel = by_id["18041234560000003"]
    assert reel.content_type == "reel" and reel.format == "REELS"
    assert reel.metrics == {
        "reactions": 233,
        "comments": 18,
        "views": 5412,
        "reach": 3977,
        "saves": 41,
        "shares": 29,
        "engagements": 321,
    }
    carousel = by_id["18041234560000002"]
    assert carousel.content_type == "carousel"
    assert "reactions" not in carousel.metrics, "hidden like counts are no data, not zero"
    assert by_id["18041234560000001"].metrics["shares"] == 0
    reel_call = next(c for c in stub.calls if c.path.startswith("/v27.0/18041234560000003"))
    assert reel_call.params["metric"] == "views,reach,saved,shares,total_interactions"


async def test_retired_plays_on_reels_is_replaced_per_media() -> None:
    stub = media_stub()

    def reel(call) -> Reply:
        if "plays" in call.params["metric"].split(","):
            return error("plays_retired")
        return Reply(200, fixture("instagram/media_insights_by_media.json")["18041234560000003"])

    stub.on("GET", "/v27.0/18041234560000003/insights", reel)
    metrics = {"REELS": ("plays", "reach"), "FEED": ("reach",)}
    ig = connector(stub, media_metrics=metrics)
    window = FetchWindow(dt.date(2026, 3, 3), dt.date(2026, 3, 3))
    (post,) = await collect(ig.posts(CREDS, window))
    calls = [c.params["metric"] for c in stub.calls if "18041234560000003" in c.path]
    assert calls == ["plays,reach", "views,reach"]
    assert post.metrics["views"] == 5412 and post.metrics["reach"] == 3977
    assert [(n.retired, n.replacement) for n in ig.report.retired_metrics] == [("plays", "views")]


async def test_metric_not_offered_for_a_media_type_is_skipped_not_retired() -> None:
    stub = media_stub()

    def carousel(call) -> Reply:
        if "shares" in call.params["metric"].split(","):
            return error("not_for_this_media")
        body = fixture("instagram/media_insights_by_media.json")["18041234560000002"]
        asked = call.params["metric"].split(",")
        return Reply(200, {"data": [e for e in body["data"] if e["name"] in asked]})

    stub.on("GET", "/v27.0/18041234560000002/insights", carousel)
    ig = connector(stub)
    window = FetchWindow(dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    (post,) = await collect(ig.posts(CREDS, window))
    assert "shares" not in post.metrics and post.metrics["views"] == 1830
    assert ig.report.retired_metrics == []
    assert any("not offered" in e for e in ig.report.empty_answers)


async def test_empty_insights_are_no_data() -> None:
    stub = Stub().on("GET", INSIGHTS, Reply(200, {"data": []}))
    ig = connector(stub)
    rows = await collect(
        ig.daily_metrics(CREDS, FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 1)))
    )
    assert rows == []
    assert ig.report.empty_answers == [
        f"instagram {IG} daily series 2026-03-01..2026-03-01",
        f"instagram {IG} totals 2026-03-01",
    ]


async def test_expired_token_is_auth_expired() -> None:
    stub = Stub().on("GET", MEDIA, error("expired_token"))
    ig = connector(stub)
    with pytest.raises(AuthExpired):
        await collect(ig.posts(CREDS, MARCH))
    assert len(stub.calls) == 1


async def test_instagram_business_use_case_throttle() -> None:
    headers = fixture("instagram/usage_headers.json")["ig_throttled"]
    stub = Stub().on("GET", INSIGHTS, error("ig_throttled", 400, headers))
    ig = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await collect(ig.daily_metrics(CREDS, MARCH))
    assert caught.value.retry_at == NOW + dt.timedelta(minutes=7)
    assert ig.report.rate_limit["x-business-use-case-usage"][IG][0]["type"] == "instagram"


async def test_own_profile_counts() -> None:
    stub = Stub().on("GET", f"/v27.0/{IG}", Reply(200, fixture("instagram/user.json")))
    ig = connector(stub)
    snap = await ig.profile(CREDS)
    assert snap.metrics == {"followers": 8420, "following": 312, "posts_total": 611}
    assert snap.account.handle == "cafeboreal" and snap.bio == "Torréfacteur · Québec ☕"


async def test_business_discovery_profile_of_a_peer() -> None:
    stub = Stub().on(
        "GET", f"/v27.0/{IG}", Reply(200, fixture("instagram/business_discovery_user.json"))
    )
    ig = connector(stub)
    snap = await ig.public_profile(CREDS, "@brulerie.du.nord")
    assert (
        stub.calls[0].params["fields"].startswith("business_discovery.username(brulerie.du.nord){")
    )
    assert snap.account.external_id == "17841400000000777"
    assert snap.metrics == {"followers": 15230, "following": 402, "posts_total": 1188}


async def test_business_discovery_refuses_a_target_that_is_not_a_username() -> None:
    stub = Stub()
    ig = connector(stub)
    with pytest.raises(Exception, match="not an Instagram username"):
        await ig.public_profile(CREDS, "x){followers_count}")
    assert stub.calls == []


async def test_business_discovery_media_pages_with_after_cursor() -> None:
    def discovery(call) -> Reply:
        fields = call.params["fields"]
        page = 2 if ".after(QUZURVIx)" in fields else 1
        return Reply(200, fixture(f"instagram/business_discovery_media_page{page}.json"))

    stub = Stub().on("GET", f"/v27.0/{IG}", discovery)
    ig = connector(stub, public_page_size=2)
    posts = await collect(ig.public_posts(CREDS, "brulerie.du.nord", MARCH))
    assert len(stub.calls) == 2, "page 2 is not full: the last page despite its after cursor"
    assert "media.limit(2)" in stub.calls[0].params["fields"]
    assert [p.external_id for p in posts] == [
        "17900000000000012",
        "17900000000000011",
        "17900000000000010",
    ]
    first, hidden, _ = posts
    assert first.metrics == {"reactions": 310, "comments": 22, "engagements": 332}
    assert first.content_type == "reel"
    assert hidden.metrics == {"comments": 5}, "hidden likes: no engagements total either"
    assert {p.account.external_id for p in posts} == {"17841400000000777"}
