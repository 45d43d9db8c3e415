"""Plausible Stats API v2 connector against a local stand-in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    RateLimited,
    SyncReport,
)
from services.ingest.connectors.plausible import PlausibleConnector
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

QUERY = "/api/v2/query"
CREDS = Credentials(access_token="PLAUSIBLE-KEY", extra={"site_id": "cafeboreal.example"})
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
ERRORS = fixture("plausible/errors.json")


def connector(stub: Stub, **kw) -> PlausibleConnector:
    return PlausibleConnector(
        stub.client(),
        base_url=stub.base_url,
        api_version="v2",
        report=SyncReport(),
        sleep=Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
        **kw,
    )


def by_query(call) -> Reply:
    body = call.json()
    name = {
        ("time:day",): "timeseries_day",
        ("time:day", "visit:channel"): "by_channel",
        ("time:day", "visit:source"): "social_sources",
        ("time:day", "visit:entry_page"): "social_entry_pages",
    }[tuple(body["dimensions"])]
    return Reply(200, fixture(f"plausible/{name}.json"))


async def test_daily_totals() -> None:
    stub = Stub().on("POST", QUERY, by_query)
    pl = connector(stub)
    rows = await collect(pl.daily_metrics(CREDS, MARCH))

    (call,) = stub.calls
    body = call.json()
    assert body["site_id"] == "cafeboreal.example"
    assert body["date_range"] == ["2026-03-01", "2026-03-03"]
    assert body["metrics"] == ["visits", "visitors", "pageviews"]
    assert body["include"] == {"total_rows": True}
    assert body["pagination"] == {"limit": 10000, "offset": 0}
    assert call.headers["authorization"] == "Bearer PLAUSIBLE-KEY"
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("sessions", "2026-03-02")] == 530
    assert got[("users", "2026-03-01")] == 380
    assert got[("pageviews", "2026-03-03")] == 1333
    assert len(rows) == 9


async def test_paging_until_total_rows() -> None:
    everything = [{"metrics": [i, i, i], "dimensions": [f"2026-01-{i + 1:02d}"]} for i in range(25)]

    def page(call) -> Reply:
        asked = call.json()["pagination"]
        rows = everything[asked["offset"] : asked["offset"] + asked["limit"]]
        return Reply(200, {"results": rows, "meta": {"total_rows": 25}, "query": call.json()})

    stub = Stub().on("POST", QUERY, page)
    pl = connector(stub, page_size=10)
    rows = await collect(
        pl.daily_metrics(CREDS, FetchWindow(dt.date(2026, 1, 1), dt.date(2026, 1, 25)))
    )
    assert [c.json()["pagination"]["offset"] for c in stub.calls] == [0, 10, 20]
    assert len({r.day for r in rows}) == 25


async def test_channels_social_networks_and_entry_pages() -> None:
    stub = Stub().on("POST", QUERY, by_query)
    pl = connector(stub)
    rows = await collect(pl.web_metrics(CREDS, MARCH))

    assert [c.json()["dimensions"] for c in stub.calls] == [
        ["time:day"],
        ["time:day", "visit:channel"],
        ["time:day", "visit:source"],
        ["time:day", "visit:entry_page"],
    ]
    social_filter = [["is", "visit:channel", ["Organic Social", "Paid Social"]]]
    assert stub.calls[2].json()["filters"] == social_filter
    assert stub.calls[3].json()["filters"] == social_filter
    got = {(r.dimension, r.dimension_value, r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("total", "total", "users", "2026-03-01")] == 380
    assert got[("channel_group", "Organic Social", "sessions", "2026-03-02")] == 160
    assert got[("channel_group", "Paid Social", "users", "2026-03-02")] == 27
    assert got[("social_network", "facebook", "sessions", "2026-03-02")] == 120 + 7
    assert ("social_network", "facebook", "users", "2026-03-02") not in got, (
        "visitors do not add up"
    )
    assert got[("social_network", "x", "sessions", "2026-03-01")] == 5
    assert got[("social_network", "bluesky", "sessions", "2026-03-02")] == 4
    assert got[("social_landing_page", "/boutique/yirgacheffe", "sessions", "2026-03-02")] == 96
    keys = [(r.day, r.dimension, r.dimension_value, r.metric) for r in rows]
    assert len(keys) == len(set(keys)), "one row per day, dimension value and metric"


async def test_empty_results_are_no_data() -> None:
    stub = Stub().on("POST", QUERY, Reply(200, fixture("plausible/empty.json")))
    pl = connector(stub)
    assert await collect(pl.daily_metrics(CREDS, MARCH)) == []
    assert len(stub.calls) == 1
    assert pl.report.empty_answers == ["plausible cafeboreal.example 2026-03-01..2026-03-03"]


async def test_invalid_key_is_auth_expired() -> None:
    stub = Stub().on("POST", QUERY, Reply(401, ERRORS["unauthorized"]))
    with pytest.raises(AuthExpired, match="Invalid API key"):
        await connector(stub).account(CREDS)


async def test_rate_limit_waits_an_hour_without_retry_after() -> None:
    stub = Stub().on("POST", QUERY, Reply(429, ERRORS["rate_limited"]))
    with pytest.raises(RateLimited) as caught:
        await collect(connector(stub).daily_metrics(CREDS, MARCH))
    assert caught.value.retry_at == NOW + dt.timedelta(hours=1)


async def test_bad_query_is_a_clear_error() -> None:
    stub = Stub().on("POST", QUERY, Reply(400, ERRORS["bad_query"]))
    with pytest.raises(ProviderError, match="Invalid dimension") as caught:
        await collect(connector(stub).web_metrics(CREDS, MARCH))
    assert caught.value.status == 400 and not caught.value.retryable


async def test_account_checks_the_key() -> None:
    stub = Stub().on("POST", QUERY, Reply(200, fixture("plausible/aggregate_day.json")))
    ref = await connector(stub).account(CREDS)
    assert stub.calls[0].json() == {
        "site_id": "cafeboreal.example",
        "metrics": ["visitors"],
        "date_range": "day",
    }
    assert (ref.network, ref.external_id) == ("plausible", "cafeboreal.example")
