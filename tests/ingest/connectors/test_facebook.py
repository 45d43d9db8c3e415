"""Facebook Pages connector against a local Graph API stand-in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    RateLimited,
    SyncReport,
)
from services.ingest.connectors.facebook import FacebookConnector
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

PAGE = "104217591234567"
INSIGHTS = f"/v27.0/{PAGE}/insights"
POSTS = f"/v27.0/{PAGE}/published_posts"
CREDS = Credentials(
    access_token="PAGE-TOKEN-123", extra={"page_id": PAGE, "timezone": "America/Los_Angeles"}
)
LA = ZoneInfo("America/Los_Angeles")
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))


def connector(stub: Stub, **kw) -> FacebookConnector:
    return FacebookConnector(
        stub.client(),
        base_url=stub.base_url,
        api_version="v27.0",
        report=SyncReport(),
        sleep=kw.pop("sleep", Sleeps()),
        now=clock(),
        jitter=lambda: 0.5,
        **kw,
    )


def error(name: str, status: int = 400, headers: dict | None = None) -> Reply:
    return Reply(status, fixture("facebook/errors.json")[name], headers or {})


def post_insights(call) -> Reply:
    post_id = call.path.split("/")[2].split("_")[1]
    return Reply(200, fixture("facebook/post_insights_by_post.json")[post_id])


def posts_stub() -> Stub:
    stub = Stub()
    stub.on(
        "GET",
        POSTS,
        lambda call: Reply(
            200,
            fixture(
                "facebook/published_posts_page2.json"
                if call.params.get("after")
                else "facebook/published_posts_page1.json"
            ),
        ),
    )
    for pid in ("911000000000001", "911000000000002", "911000000000003"):
        stub.on("GET", f"/v27.0/{PAGE}_{pid}/insights", post_insights)
    return stub


async def test_daily_metrics_map_each_insight_to_its_day() -> None:
    stub = Stub().on("GET", INSIGHTS, Reply(200, fixture("facebook/page_insights_day.json")))
    fb = connector(stub)
    rows = await collect(fb.daily_metrics(CREDS, MARCH))

    assert len(stub.calls) == 1, "the time-based paging.next is never followed"
    call = stub.calls[0]
    assert call.params["period"] == "day"
    assert (call.params["since"], call.params["until"]) == ("2026-03-01", "2026-03-04")
    assert call.headers["authorization"] == "Bearer PAGE-TOKEN-123"
    assert "access_token" not in call.params
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert len(rows) == 8 * 3  # the weekly entry is not a daily value
    assert got[("views", "2026-03-01")] == 1520
    assert got[("reach", "2026-03-02")] == 1130
    assert got[("followers", "2026-03-03")] == 12489
    assert got[("follows", "2026-03-01")] == 14
    assert got[("unfollows", "2026-03-03")] == 6
    assert got[("profile_visits", "2026-03-02")] == 57
    assert got[("video_views", "2026-03-02")] == 0  # a zero the API gave is a real zero
    assert got[("engagements", "2026-03-03")] == 51
    assert {r.source.label() for r in rows} == {"facebook_graph v27.0"}
    assert fb.report.requests == 1 and fb.report.api_version == "v27.0"


async def test_day_without_the_page_time_zone_is_still_right() -> None:
    stub = Stub().on("GET", INSIGHTS, Reply(200, fixture("facebook/page_insights_day.json")))
    fb = connector(stub)
    rows = await collect(
        fb.daily_metrics(Credentials(access_token="T", extra={"page_id": PAGE}), MARCH)
    )
    assert sorted({r.day for r in rows}) == [dt.date(2026, 3, d) for d in (1, 2, 3)]


async def test_long_window_is_cut_in_90_day_calls() -> None:
    def insights(call) -> Reply:
        since = dt.date.fromisoformat(call.params["since"])
        until = dt.date.fromisoformat(call.params["until"])
        values = []
        day = since
        while day < until:
            # The Page's midnight, in UTC (07:00 or 08:00 depending on daylight time).
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LA).astimezone(dt.UTC)
            values.append({"value": day.day, "end_time": end.strftime("%Y-%m-%dT%H:%M:%S+0000")})
            day += dt.timedelta(days=1)
        return Reply(
            200,
            {
                "data": [{"name": "page_media_view", "period": "day", "values": values}],
                "paging": {"next": f"https://graph.facebook.com/v27.0/{PAGE}/insights?since=1"},
            },
        )

    stub = Stub().on("GET", INSIGHTS, insights)
    fb = connector(stub, page_metrics=("page_media_view",))
    window = FetchWindow(dt.date(2025, 11, 1), dt.date(2026, 2, 28))  # 120 days
    rows = await collect(fb.daily_metrics(CREDS, window))

    assert [(c.params["since"], c.params["until"]) for c in stub.calls] == [
        ("2025-11-01", "2026-01-30"),
        ("2026-01-30", "2026-03-01"),
    ]
    assert len(rows) == 120 and len({r.day for r in rows}) == 120


async def test_posts_follow_the_cursor_to_the_end_and_no_further() -> None:
    stub = posts_stub()
    fb = connector(stub)
    posts = await collect(fb.posts(CREDS, MARCH))

    listing = [c for c in stub.calls if c.path == POSTS]
    assert len(listing) == 2, "page 2 has no paging.next: no third call"
    assert len(stub.calls) == 2 + 3  # two pages, one insights call per post
    second = listing[1]
    assert second.params["after"] == "QVFIUjR0dXhOLTA0"
    assert "access_token" not in second.params, "the token never travels in a URL"
    assert second.url.startswith(stub.base_url), "next links are rebased on our base URL"
    assert fb.report.pages == 2

    by_id = {p.external_id.split("_")[1]: p for p in posts}
    photo = by_id["911000000000003"]
    assert photo.content_type == "photo" and photo.format == "photo"
    assert photo.metrics == {
        "reactions": 143,
        "comments": 12,
        "shares": 7,
        "engagements": 162,
        "views": 2311,
        "reach": 1604,
        "clicks": 97,
    }
    assert photo.published_at == dt.datetime(2026, 3, 3, 17, 2, 11, tzinfo=dt.UTC)
    assert photo.snapshot_date == NOW.date()
    video = by_id["911000000000002"]
    assert video.content_type == "video" and video.metrics["video_views"] == 2210
    text = by_id["911000000000001"]
    assert text.content_type == "text"
    # Graph leaves "shares" out of a post nobody shared: that is its way of saying 0.
    assert text.metrics["shares"] == 0 and text.metrics["comments"] == 0
    video_call = next(c for c in stub.calls if "911000000000002" in c.path)
    assert "post_video_views" in video_call.params["metric"].split(",")


async def test_posts_stop_at_the_window_start() -> None:
    stub = posts_stub()
    fb = connector(stub)
    window = FetchWindow(dt.date(2026, 3, 3), dt.date(2026, 3, 3))
    posts = await collect(fb.posts(CREDS, window))
    assert [p.external_id for p in posts] == [f"{PAGE}_911000000000003"]
    assert [c.path for c in stub.calls].count(POSTS) == 1, "older posts end the listing"


async def test_retired_metric_is_replaced_and_recorded() -> None:
    def insights(call) -> Reply:
        if "page_impressions" in call.params["metric"].split(","):
            return error("invalid_insights_metric")
        data = fixture("facebook/page_insights_day.json")["data"]
        asked = call.params["metric"].split(",")
        return Reply(
            200, {"data": [e for e in data if e["name"] in asked and e["period"] == "day"]}
        )

    stub = Stub().on("GET", INSIGHTS, insights)
    fb = connector(stub, page_metrics=("page_impressions", "page_follows"))
    rows = await collect(fb.daily_metrics(CREDS, MARCH))

    asked = [c.params["metric"] for c in stub.calls]
    # together (refused, unnamed) → each alone → the replacement → the other one
    assert asked == [
        "page_impressions,page_follows",
        "page_impressions",
        "page_media_view",
        "page_follows",
    ]
    assert {r.metric for r in rows} == {"views", "followers"} and len(rows) == 6
    (note,) = fb.report.retired_metrics
    assert (note.retired, note.replacement) == ("page_impressions", "page_media_view")
    assert "valid insights metric" in (note.detail or "")

    # The rest of the run asks for the replacement straight away.
    stub.calls.clear()
    await collect(fb.daily_metrics(CREDS, MARCH))
    assert [c.params["metric"] for c in stub.calls] == ["page_media_view,page_follows"]
    assert len(fb.report.retired_metrics) == 1


async def test_empty_insights_are_no_data_not_zero() -> None:
    stub = Stub().on("GET", INSIGHTS, Reply(200, {"data": []}))
    fb = connector(stub)
    rows = await collect(fb.daily_metrics(CREDS, MARCH))
    assert rows == []
    assert fb.report.empty_answers == [f"facebook page {PAGE} insights 2026-03-01..2026-03-03"]


async def test_business_use_case_usage_backs_off_for_the_announced_minutes() -> None:
    usage = fixture("facebook/usage_headers.json")
    stub = posts_stub()
    stub.on(
        "GET",
        POSTS,
        Reply(200, fixture("facebook/published_posts_page1.json"), usage["page_throttled"]),
    )
    fb = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await collect(fb.posts(CREDS, MARCH))

    assert caught.value.retry_at == NOW + dt.timedelta(minutes=19)
    assert len(stub.calls) == 1, "nothing is sent once Meta asked to wait"
    buc = fb.report.rate_limit["x-business-use-case-usage"][PAGE][0]
    assert buc["estimated_time_to_regain_access"] == 19
    assert fb.report.rate_limit["max_usage_pct"] == 100
    assert fb.report.rate_limit["throttled_until"] == (NOW + dt.timedelta(minutes=19)).isoformat()


async def test_app_usage_at_100_percent_backs_off() -> None:
    usage = fixture("facebook/usage_headers.json")
    stub = Stub().on("GET", INSIGHTS, Reply(200, {"data": []}, usage["app_full"]))
    fb = connector(stub)
    await collect(fb.daily_metrics(CREDS, MARCH))
    with pytest.raises(RateLimited) as caught:
        await collect(fb.daily_metrics(CREDS, MARCH))
    assert caught.value.retry_at == NOW + FacebookConnector.default_wait
    assert fb.report.rate_limit["x-app-usage"]["call_count"] == 100
    assert len(stub.calls) == 1


async def test_normal_usage_is_recorded_without_backing_off() -> None:
    usage = fixture("facebook/usage_headers.json")
    stub = Stub().on(
        "GET", INSIGHTS, Reply(200, fixture("facebook/page_insights_day.json"), usage["normal"])
    )
    fb = connector(stub)
    await collect(fb.daily_metrics(CREDS, MARCH))
    await collect(fb.daily_metrics(CREDS, MARCH))
    assert len(stub.calls) == 2
    assert fb.report.rate_limit["x-app-usage"] == {
        "call_count": 28,
        "total_time": 25,
        "total_cputime": 25,
    }
    assert "throttled_until" not in fb.report.rate_limit


@pytest.mark.parametrize("name", ["expired_token", "password_changed"])
async def test_error_190_is_auth_expired(name: str) -> None:
    stub = Stub().on("GET", INSIGHTS, error(name))
    fb = connector(stub)
    with pytest.raises(AuthExpired) as caught:
        await collect(fb.daily_metrics(CREDS, MARCH))
    assert caught.value.detail["code"] == 190
    assert len(stub.calls) == 1, "an expired token is not retried"


async def test_throttling_error_waits_for_the_header_estimate() -> None:
    usage = fixture("facebook/usage_headers.json")
    stub = Stub().on("GET", INSIGHTS, error("buc_page_throttled", 400, usage["page_throttled"]))
    fb = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await collect(fb.daily_metrics(CREDS, MARCH))
    assert caught.value.retry_at == NOW + dt.timedelta(minutes=19)
    assert caught.value.detail["code"] == 80001
    assert len(stub.calls) == 1


async def test_transient_graph_error_is_retried_with_backoff() -> None:
    sleeps = Sleeps()
    stub = Stub().on(
        "GET",
        INSIGHTS,
        [error("transient_unknown", 500), Reply(200, fixture("facebook/page_insights_day.json"))],
    )
    fb = connector(stub, sleep=sleeps)
    rows = await collect(fb.daily_metrics(CREDS, MARCH))
    assert len(rows) == 24 and len(stub.calls) == 2
    assert sleeps.waits == [0.375]  # half of 0.5 s fixed + half × jitter 0.5


async def test_permission_error_is_not_retried() -> None:
    stub = Stub().on("GET", INSIGHTS, error("permission", 403))
    fb = connector(stub)
    with pytest.raises(ProviderError) as caught:
        await collect(fb.daily_metrics(CREDS, MARCH))
    assert not caught.value.retryable and caught.value.status == 403
    assert len(stub.calls) == 1


async def test_public_page_fields() -> None:
    stub = Stub().on("GET", "/v27.0/cafeboreal", Reply(200, fixture("facebook/page_fields.json")))
    fb = connector(stub)
    snap = await fb.public_profile(Credentials(access_token="APP-TOKEN"), "cafeboreal")
    assert stub.calls[0].params["fields"] == "id,name,username,link,about,followers_count,fan_count"
    assert snap.account.external_id == PAGE and snap.account.handle == "cafeboreal"
    assert snap.metrics == {"followers": 12491, "page_likes": 11873}
    assert snap.observed_on == NOW.date()
    rows = snap.daily_records()
    assert {(r.metric, r.value, r.day) for r in rows} == {
        ("followers", 12491, NOW.date()),
        ("page_likes", 11873, NOW.date()),
    }


async def test_public_posts_read_the_posts_edge_without_insights() -> None:
    stub = Stub().on(
        "GET", "/v27.0/cafeboreal/posts", Reply(200, fixture("facebook/published_posts_page2.json"))
    )
    fb = connector(stub)
    posts = await collect(fb.public_posts(Credentials(access_token="T"), "cafeboreal", MARCH))
    assert len(stub.calls) == 1 and len(posts) == 1
    assert posts[0].metrics == {"reactions": 19, "comments": 0, "shares": 0, "engagements": 19}


async def test_empty_pages_with_a_next_link_do_not_go_on_forever() -> None:
    empty_page = {
        "data": [],
        "paging": {"next": f"https://graph.facebook.com/v27.0/{PAGE}/published_posts?after=X"},
    }
    stub = Stub().on("GET", POSTS, Reply(200, empty_page))
    fb = connector(stub)
    assert await collect(fb.posts(CREDS, MARCH)) == []
    assert len(stub.calls) == 2
    assert fb.report.empty_answers[0].endswith(
        "stopped after 2 empty pages that still had a next link"
    )
