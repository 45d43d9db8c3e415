"""LinkedIn organisation connector against a local versioned REST stand-in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    QuotaExhausted,
    SyncReport,
)
from services.ingest.connectors.linkedin import LinkedInConnector
from tests.ingest.connectors.stub import Reply, Sleeps, Stub, clock, collect, fixture

ORG = "2414183"
URN = "urn%3Ali%3Aorganization%3A2414183"
CREDS = Credentials(access_token="LI-TOKEN", extra={"organization_id": ORG})
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
ERRORS = fixture("linkedin/errors.json")
FOLLOWERS = "/rest/organizationalEntityFollowerStatistics"
SHARES = "/rest/organizationalEntityShareStatistics"
POSTS = "/rest/posts"


def connector(stub: Stub, **kw) -> LinkedInConnector:
    return LinkedInConnector(
        stub.client(),
        base_url=f"{stub.base_url}/rest",
        api_version="202608",
        report=SyncReport(),
        sleep=Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
        **kw,
    )


def raw_query(call) -> str:
    return call.url.split("?", 1)[1]


def posts_stub() -> Stub:
    stub = Stub()
    stub.on(
        "GET",
        POSTS,
        lambda call: Reply(
            200,
            fixture(
                "linkedin/posts_page2.json"
                if call.params["start"] != "0"
                else "linkedin/posts_page1.json"
            ),
        ),
    )
    stub.on("GET", SHARES, Reply(200, fixture("linkedin/post_share_statistics.json")))
    return stub


async def test_daily_follower_and_share_statistics() -> None:
    stub = Stub()
    stub.on("GET", FOLLOWERS, Reply(200, fixture("linkedin/follower_statistics_day.json")))
    stub.on("GET", SHARES, Reply(200, fixture("linkedin/share_statistics_day.json")))
    li = connector(stub)
    rows = await collect(li.daily_metrics(CREDS, MARCH))

    assert stub.paths() == [FOLLOWERS, SHARES]
    query = raw_query(stub.calls[0])
    assert f"organizationalEntity={URN}" in query and "q=organizationalEntity" in query
    assert (
        "timeIntervals=(timeRange:(start:1772323200000,end:1772582400000),"
        "timeGranularityType:DAY)" in query
    )
    headers = stub.calls[0].headers
    assert headers["linkedin-version"] == "202608"
    assert headers["x-restli-protocol-version"] == "2.0.0"
    assert headers["authorization"] == "Bearer LI-TOKEN"
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("follows", "2026-03-01")] == 6
    assert got[("follows", "2026-03-02")] == -1, "net gains can be negative"
    assert got[("follows", "2026-03-03")] == 5
    assert got[("impressions", "2026-03-02")] == 2210
    assert got[("clicks", "2026-03-01")] == 12
    assert got[("reactions", "2026-03-02")] == 21
    assert got[("engagements", "2026-03-02")] == 30 + 21 + 4 + 0
    assert ("reach", "2026-03-01") not in got, "no unique impressions in daily buckets"


async def test_share_statistics_only_for_the_last_12_months() -> None:
    stub = Stub()
    stub.on("GET", FOLLOWERS, Reply(200, fixture("linkedin/statistics_empty.json")))
    stub.on("GET", SHARES, Reply(200, fixture("linkedin/statistics_empty.json")))
    li = connector(stub)
    old = FetchWindow(dt.date(2024, 1, 1), dt.date(2024, 1, 31))
    assert await collect(li.daily_metrics(CREDS, old)) == []
    assert stub.paths() == [FOLLOWERS], "no share statistics call for a window LinkedIn drops"
    assert li.report.empty_answers == [
        f"linkedin {ORG} follower statistics 2024-01-01..2024-01-31",
        f"linkedin {ORG} share statistics before the last 12 months",
    ]


async def test_posts_page_with_start_and_count_then_batch_statistics() -> None:
    stub = posts_stub()
    li = connector(stub, page_size=2)
    posts = await collect(li.posts(CREDS, MARCH))

    assert stub.paths() == [POSTS, POSTS, SHARES], "page 2 has no next link and an older post"
    assert [c.params["start"] for c in stub.calls[:2]] == ["0", "2"]
    assert stub.calls[0].params["count"] == "2" and stub.calls[0].params["sortBy"] == "CREATED"
    stats = raw_query(stub.calls[2])
    assert (
        "shares=List(urn%3Ali%3Ashare%3A7300000000000000003,urn%3Ali%3Ashare%3A7300000000000000001)"
        in stats
    )
    assert "ugcPosts=List(urn%3Ali%3AugcPost%3A7300000000000000002)" in stats

    photo, document, video = posts
    assert photo.content_type == "photo" and document.content_type == "document"
    assert video.content_type == "video"
    assert photo.metrics == {
        "impressions": 1238,
        "reach": 812,
        "clicks": 51,
        "reactions": 33,
        "comments": 0,
        "shares": 4,
        "engagements": 51 + 33 + 0 + 4,
    }
    assert photo.published_at == dt.datetime(2026, 3, 3, 15, tzinfo=dt.UTC)
    assert (
        photo.permalink == "https://www.linkedin.com/feed/update/urn:li:share:7300000000000000003/"
    )


async def test_posts_stop_when_total_is_reached() -> None:
    page = fixture("linkedin/posts_page1.json")
    del page["paging"]["links"]
    page["paging"]["total"] = 2
    stub = Stub().on("GET", POSTS, Reply(200, page))
    stub.on("GET", SHARES, Reply(200, fixture("linkedin/post_share_statistics.json")))
    li = connector(stub, page_size=2)
    posts = await collect(li.posts(CREDS, MARCH))
    assert stub.paths() == [POSTS, SHARES] and len(posts) == 2


async def test_post_missing_from_statistics_is_no_data() -> None:
    stub = posts_stub()
    stub.on("GET", SHARES, Reply(200, fixture("linkedin/statistics_empty.json")))
    li = connector(stub, page_size=2)
    posts = await collect(li.posts(CREDS, MARCH))
    assert all(p.metrics == {} for p in posts)
    assert "linkedin post urn:li:share:7300000000000000003 statistics" in li.report.empty_answers


async def test_followers_from_network_size() -> None:
    stub = Stub()
    stub.on("GET", f"/rest/organizations/{ORG}", Reply(200, fixture("linkedin/organization.json")))
    stub.on(
        "GET",
        "/rest/networkSizes/urn:li:organization:2414183",
        Reply(200, fixture("linkedin/network_size.json")),
    )
    li = connector(stub)
    snap = await li.profile(CREDS)
    assert stub.calls[1].params == {"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"}
    assert snap.metrics == {"followers": 4187}
    assert snap.account.name == "Café Boréal inc." and snap.account.handle == "cafe-boreal"


async def test_daily_quota_429_stops_until_midnight_utc() -> None:
    stub = Stub().on("GET", FOLLOWERS, Reply(429, ERRORS["throttled"]))
    li = connector(stub)
    with pytest.raises(QuotaExhausted) as caught:
        await collect(li.daily_metrics(CREDS, MARCH))
    assert caught.value.resume_at == dt.datetime(2026, 3, 21, tzinfo=dt.UTC)
    assert caught.value.detail["serviceErrorCode"] == 101
    assert len(stub.calls) == 1


@pytest.mark.parametrize("name", ["revoked", "expired"])
async def test_revoked_or_expired_token_is_auth_expired(name: str) -> None:
    stub = Stub().on("GET", f"/rest/organizations/{ORG}", Reply(401, ERRORS[name]))
    with pytest.raises(AuthExpired):
        await connector(stub).account(CREDS)


async def test_sunset_version_says_so() -> None:
    stub = Stub().on("GET", f"/rest/organizations/{ORG}", Reply(426, ERRORS["version_sunset"]))
    with pytest.raises(ProviderError, match="LinkedIn-Version 202608 is sunset") as caught:
        await connector(stub).account(CREDS)
    assert caught.value.status == 426 and not caught.value.retryable
