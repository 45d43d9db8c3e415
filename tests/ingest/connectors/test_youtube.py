"""YouTube connector against local Data API and Analytics API stand-ins."""

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
from services.ingest.connectors.youtube import YouTubeConnector, iso_duration
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

CH = "UCq3h6bJ2y0k2f1c5Zr9aBcD"
CHANNELS = "/youtube/v3/channels"
ITEMS = "/youtube/v3/playlistItems"
VIDEOS = "/youtube/v3/videos"
REPORTS = "/v2/reports"
CREDS = Credentials(access_token="YT-TOKEN")
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
ERRORS = fixture("youtube/errors.json")


def connector(stub: Stub, sleeps: Sleeps | None = None) -> YouTubeConnector:
    return YouTubeConnector(
        stub.client(),
        base_url=f"{stub.base_url}/youtube",
        api_version="v3",
        analytics_base_url=stub.base_url,
        analytics_api_version="v2",
        report=SyncReport(),
        sleep=sleeps or Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
    )


def videos_stub() -> Stub:
    stub = Stub().on("GET", CHANNELS, Reply(200, fixture("youtube/channels_mine.json")))
    stub.on(
        "GET",
        ITEMS,
        lambda call: Reply(
            200,
            fixture(
                "youtube/playlist_items_page2.json"
                if call.params.get("pageToken")
                else "youtube/playlist_items_page1.json"
            ),
        ),
    )
    stub.on("GET", VIDEOS, Reply(200, fixture("youtube/videos.json")))
    return stub


async def test_uploads_page_to_the_window_start_then_videos_in_one_batch() -> None:
    stub = videos_stub()
    yt = connector(stub)
    posts = await collect(yt.posts(CREDS, MARCH))

    # channel, 2 playlist pages (page 2 reaches February: stop despite nextPageToken), videos
    assert stub.paths() == [CHANNELS, ITEMS, ITEMS, VIDEOS]
    assert stub.calls[0].params == {"part": "snippet,contentDetails", "mine": "true"}
    assert stub.calls[1].params["playlistId"] == "UUq3h6bJ2y0k2f1c5Zr9aBcD"
    assert stub.calls[2].params["pageToken"] == "EAAaBlBUOkNBSQ"
    assert stub.calls[3].params["id"] == "vid0000003a,vid0000002b,vid0000001c"
    assert stub.calls[0].headers["authorization"] == "Bearer YT-TOKEN"

    recipe, short, visit = posts
    assert recipe.metrics == {"views": 4180, "reactions": 233, "comments": 41, "engagements": 274}
    assert recipe.duration_seconds == 521 and recipe.title == "Recette: cold brew maison"
    assert recipe.permalink == "https://www.youtube.com/watch?v=vid0000003a"
    assert short.metrics == {"views": 12044, "comments": 7}, "hidden likes are no data"
    assert visit.metrics == {"views": 890, "reactions": 51}, "comments off: no comment count"
    assert visit.duration_seconds == 3725
    assert {p.account.external_id for p in posts} == {CH}


async def test_analytics_report_by_day() -> None:
    stub = Stub().on("GET", REPORTS, Reply(200, fixture("youtube/analytics_day.json")))
    yt = connector(stub)
    creds = Credentials(access_token="YT-TOKEN", extra={"channel_id": CH})
    rows = await collect(yt.daily_metrics(creds, MARCH))

    (call,) = stub.calls
    assert call.params["ids"] == f"channel=={CH}"
    assert (call.params["startDate"], call.params["endDate"]) == ("2026-03-01", "2026-03-03")
    assert call.params["dimensions"] == "day"
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("views", "2026-03-02")] == 1062
    assert got[("watch_time_seconds", "2026-03-01")] == 1204 * 60
    assert got[("follows", "2026-03-01")] == 5 and got[("unfollows", "2026-03-03")] == 2
    assert got[("engagements", "2026-03-02")] == 32 + 8 + 4
    assert len(rows) == 8 * 3
    assert {r.source.label() for r in rows} == {"youtube_analytics v2"}


async def test_analytics_without_rows_is_no_data() -> None:
    stub = Stub().on("GET", REPORTS, Reply(200, fixture("youtube/analytics_empty.json")))
    yt = connector(stub)
    creds = Credentials(access_token="YT-TOKEN", extra={"channel_id": CH})
    assert await collect(yt.daily_metrics(creds, MARCH)) == []
    assert yt.report.empty_answers == [f"youtube analytics {CH} 2026-03-01..2026-03-03"]


async def test_quota_exceeded_stops_until_midnight_pacific() -> None:
    stub = Stub().on("GET", CHANNELS, Reply(403, ERRORS["quota_exceeded"]))
    yt = connector(stub)
    with pytest.raises(QuotaExhausted) as caught:
        await collect(yt.posts(CREDS, MARCH))
    # 2026-03-20 12:00 UTC is 05:00 PDT: the quota resets at 00:00 PDT on the 21st.
    assert caught.value.resume_at == dt.datetime(2026, 3, 21, 7, 0, tzinfo=dt.UTC)
    assert caught.value.detail["reasons"] == ["quotaExceeded"]
    assert len(stub.calls) == 1, "an exhausted quota is never retried"


async def test_quota_exceeded_in_the_middle_of_paging() -> None:
    stub = videos_stub()
    stub.on(
        "GET",
        ITEMS,
        [
            Reply(200, fixture("youtube/playlist_items_page1.json")),
            Reply(403, ERRORS["quota_exceeded"]),
        ],
    )
    yt = connector(stub)
    with pytest.raises(QuotaExhausted):
        await collect(yt.posts(CREDS, MARCH))
    assert stub.paths() == [CHANNELS, ITEMS, ITEMS]


async def test_rate_limit_is_rate_limited_not_quota() -> None:
    stub = Stub().on("GET", CHANNELS, Reply(403, ERRORS["rate_limited"]))
    yt = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await yt.profile(CREDS)
    assert caught.value.retry_at == NOW + dt.timedelta(minutes=1)


async def test_invalid_credentials_are_auth_expired() -> None:
    stub = Stub().on("GET", CHANNELS, Reply(401, ERRORS["unauthorized"]))
    yt = connector(stub)
    with pytest.raises(AuthExpired):
        await yt.account(CREDS)


async def test_backend_error_retried_then_served() -> None:
    sleeps = Sleeps()
    stub = Stub().on(
        "GET",
        CHANNELS,
        [Reply(503, ERRORS["backend_error"]), Reply(200, fixture("youtube/channels_mine.json"))],
    )
    yt = connector(stub, sleeps)
    snap = await yt.profile(CREDS)
    assert snap.metrics == {"followers": 8450, "posts_total": 212, "lifetime_views": 1203441}
    assert len(stub.calls) == 2 and len(sleeps.waits) == 1


async def test_public_channel_by_handle_with_hidden_subscribers() -> None:
    stub = Stub().on("GET", CHANNELS, Reply(200, fixture("youtube/channels_by_handle_hidden.json")))
    yt = connector(stub)
    snap = await yt.public_profile(CREDS, "bruleriedunord")
    assert stub.calls[0].params["forHandle"] == "@bruleriedunord"
    assert snap.metrics == {"posts_total": 64, "lifetime_views": 88120}, "hidden: no followers"
    assert snap.url == "https://www.youtube.com/@bruleriedunord"


async def test_public_channel_by_id_and_unknown_channel() -> None:
    stub = Stub().on("GET", CHANNELS, Reply(200, fixture("youtube/channels_none.json")))
    yt = connector(stub)
    with pytest.raises(ProviderError) as caught:
        await yt.public_profile(CREDS, "UCa1b2c3d4e5f6g7h8i9j0kL")
    assert stub.calls[0].params["id"] == "UCa1b2c3d4e5f6g7h8i9j0kL"
    assert caught.value.status == 404


def test_iso_durations() -> None:
    assert iso_duration("PT38S") == 38
    assert iso_duration("PT1H2M5S") == 3725
    assert iso_duration("P1DT1S") == 86401
    assert iso_duration("P0D") == 0
    assert iso_duration("") is None and iso_duration(None) is None and iso_duration("P") is None
