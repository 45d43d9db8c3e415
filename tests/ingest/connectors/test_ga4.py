"""GA4 Data API connector against a local runReport stand-in."""

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
from services.ingest.connectors.ga4 import GA4Connector
from tests.ingest.connectors.stub import NOW, Reply, Sleeps, Stub, clock, collect, fixture

PID = "312345678"
RUN = f"/v1beta/properties/{PID}:runReport"
CREDS = Credentials(
    access_token="GA-TOKEN", extra={"property_id": PID, "name": "cafeboreal.example"}
)
MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
ERRORS = fixture("ga4/errors.json")


def connector(stub: Stub, sleeps: Sleeps | None = None, **kw) -> GA4Connector:
    return GA4Connector(
        stub.client(),
        base_url=stub.base_url,
        api_version="v1beta",
        report=SyncReport(),
        sleep=sleeps or Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
        **kw,
    )


def by_dimensions(call) -> Reply:
    dims = [d["name"] for d in call.json()["dimensions"]]
    name = {
        ("date",): "run_report_totals",
        ("date", "sessionDefaultChannelGroup"): "run_report_channels",
        ("date", "sessionSource", "sessionMedium"): "run_report_source_medium",
        ("date", "landingPage"): "run_report_social_landing",
    }[tuple(dims)]
    return Reply(200, fixture(f"ga4/{name}.json"))


async def test_daily_totals() -> None:
    stub = Stub().on("POST", RUN, by_dimensions)
    ga = connector(stub)
    rows = await collect(ga.daily_metrics(CREDS, MARCH))

    (call,) = stub.calls
    body = call.json()
    assert body["dateRanges"] == [{"startDate": "2026-03-01", "endDate": "2026-03-03"}]
    assert [m["name"] for m in body["metrics"]] == [
        "sessions",
        "engagedSessions",
        "totalUsers",
        "screenPageViews",
        "keyEvents",
    ]
    assert (body["offset"], body["limit"], body["returnPropertyQuota"]) == (0, 10000, True)
    assert call.headers["authorization"] == "Bearer GA-TOKEN"
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("sessions", "2026-03-02")] == 530
    assert got[("engaged_sessions", "2026-03-01")] == 263
    assert got[("users", "2026-03-03")] == 440
    assert got[("pageviews", "2026-03-01")] == 1190
    assert got[("conversions", "2026-03-03")] == 0
    assert len(rows) == 15
    assert ga.report.rate_limit["propertyQuota"]["tokensPerDay"]["remaining"] == 199921
    assert rows[0].account.name == "cafeboreal.example"


async def test_offset_paging_stops_at_row_count() -> None:
    template = fixture("ga4/run_report_source_medium.json")
    pairs = [r["dimensionValues"][1:] for r in template["rows"]]
    everything = []
    for i in range(572):  # 52 days × 11 source/medium pairs
        day = dt.date(2026, 1, 1) + dt.timedelta(days=i // 11)
        everything.append(
            {
                "dimensionValues": [{"value": day.strftime("%Y%m%d")}, *pairs[i % 11]],
                "metricValues": [{"value": "1"}, {"value": "1"}, {"value": "0"}],
            }
        )

    def run(call) -> Reply:
        asked = call.json()
        page = dict(template)
        page["rows"] = everything[asked["offset"] : asked["offset"] + asked["limit"]]
        page["rowCount"] = 572
        return Reply(200, page)

    stub = Stub().on("POST", RUN, run)
    ga = connector(stub, page_size=250)
    window = FetchWindow(dt.date(2026, 1, 1), dt.date(2026, 2, 21))
    rows = [
        r
        async for r in ga.run_report(
            CREDS, window, ["date", "sessionSource", "sessionMedium"], ("sessions",)
        )
    ]

    assert [c.json()["offset"] for c in stub.calls] == [0, 250, 500], "no call past rowCount"
    assert all(c.json()["limit"] == 250 for c in stub.calls)
    assert len(rows) == 572
    assert ga.report.pages == 3


async def test_breakdowns_by_channel_source_network_and_social_landing_page() -> None:
    stub = Stub().on("POST", RUN, by_dimensions)
    ga = connector(stub)
    rows = await collect(ga.web_metrics(CREDS, MARCH))

    dims = [[d["name"] for d in c.json()["dimensions"]] for c in stub.calls]
    assert dims == [
        ["date"],
        ["date", "sessionDefaultChannelGroup"],
        ["date", "sessionSource", "sessionMedium"],
        ["date", "landingPage"],
    ]
    landing = stub.calls[3].json()
    assert landing["dimensionFilter"] == {
        "filter": {
            "fieldName": "sessionDefaultChannelGroup",
            "inListFilter": {"values": ["Organic Social", "Paid Social"]},
        }
    }
    got = {(r.dimension, r.dimension_value, r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("channel_group", "Organic Social", "sessions", "2026-03-02")] == 160
    assert got[("channel_group", "Paid Social", "engaged_sessions", "2026-03-02")] == 23
    assert got[("source_medium", "m.facebook.com / referral", "sessions", "2026-03-01")] == 41
    # social networks gather their sources: m.facebook.com + facebook/cpc, t.co is X…
    assert got[("social_network", "facebook", "sessions", "2026-03-01")] == 41 + 12
    assert got[("social_network", "instagram", "conversions", "2026-03-01")] == 1
    assert got[("social_network", "x", "sessions", "2026-03-01")] == 9
    assert got[("social_network", "linkedin", "sessions", "2026-03-01")] == 8
    assert got[("social_network", "youtube", "sessions", "2026-03-01")] == 3
    assert not any(k[0] == "social_network" and k[1] in ("google", "bing") for k in got)
    assert got[("social_landing_page", "/boutique/yirgacheffe", "sessions", "2026-03-02")] == 96
    assert got[("total", "total", "sessions", "2026-03-02")] == 530
    assert {r.dimension for r in rows} == {
        "total",
        "channel_group",
        "source_medium",
        "social_network",
        "social_landing_page",
    }


async def test_no_rows_is_no_data() -> None:
    stub = Stub().on("POST", RUN, Reply(200, fixture("ga4/run_report_empty.json")))
    ga = connector(stub)
    assert await collect(ga.daily_metrics(CREDS, MARCH)) == []
    assert len(stub.calls) == 1, "no rowCount: nothing more to ask"
    assert ga.report.empty_answers == [f"ga4 {PID} totals 2026-03-01..2026-03-03"]


async def test_tokens_per_day_exhausted_stops_until_midnight_pacific() -> None:
    stub = Stub().on("POST", RUN, Reply(429, ERRORS["tokens_per_day"]))
    ga = connector(stub)
    with pytest.raises(QuotaExhausted) as caught:
        await collect(ga.daily_metrics(CREDS, MARCH))
    assert caught.value.resume_at == dt.datetime(2026, 3, 21, 7, tzinfo=dt.UTC)
    assert len(stub.calls) == 1


async def test_tokens_per_hour_exhausted_waits_for_the_next_hour() -> None:
    stub = Stub().on("POST", RUN, Reply(429, ERRORS["tokens_per_hour"]))
    ga = connector(stub)
    with pytest.raises(RateLimited) as caught:
        await collect(ga.daily_metrics(CREDS, MARCH))
    assert caught.value.retry_at == NOW.replace(hour=13)


async def test_unauthenticated_is_auth_expired_and_permission_is_an_error() -> None:
    stub = Stub().on(
        "GET", f"/v1beta/properties/{PID}/metadata", Reply(401, ERRORS["unauthenticated"])
    )
    with pytest.raises(AuthExpired):
        await connector(stub).account(CREDS)
    stub = Stub().on(
        "GET", f"/v1beta/properties/{PID}/metadata", Reply(403, ERRORS["permission_denied"])
    )
    with pytest.raises(ProviderError) as caught:
        await connector(stub).account(CREDS)
    assert caught.value.status == 403 and not caught.value.retryable


async def test_account_checks_the_property() -> None:
    stub = Stub().on(
        "GET", f"/v1beta/properties/{PID}/metadata", Reply(200, fixture("ga4/metadata.json"))
    )
    ref = await connector(stub).account(CREDS)
    assert (ref.network, ref.external_id, ref.name) == ("ga4", PID, "cafeboreal.example")


async def test_server_errors_retried_with_growing_waits_then_given_up() -> None:
    sleeps = Sleeps()
    stub = Stub().on("POST", RUN, Reply(500, ERRORS["internal"]))
    ga = connector(stub, sleeps)
    with pytest.raises(ProviderError) as caught:
        await collect(ga.daily_metrics(CREDS, MARCH))
    assert caught.value.retryable and caught.value.status == 500
    assert len(stub.calls) == 4  # the first try and 3 retries
    assert sleeps.waits == [0.375, 0.75, 1.5]


async def test_retired_conversions_metric_becomes_key_events() -> None:
    def run(call) -> Reply:
        if "conversions" in [m["name"] for m in call.json()["metrics"]]:
            return Reply(400, ERRORS["conversions_not_valid"])
        return by_dimensions(call)

    stub = Stub().on("POST", RUN, run)
    ga = connector(stub, totals=("sessions", "conversions"))
    rows = await collect(ga.daily_metrics(CREDS, MARCH))

    assert [[m["name"] for m in c.json()["metrics"]] for c in stub.calls] == [
        ["sessions", "conversions"],
        ["sessions", "keyEvents"],
    ]
    (note,) = ga.report.retired_metrics
    assert (note.network, note.retired, note.replacement) == ("ga4", "conversions", "keyEvents")
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("conversions", "2026-03-02")] == 14 and got[("sessions", "2026-03-02")] == 530

    # the breakdowns of the same run ask for keyEvents straight away
    stub.calls.clear()
    ga.breakdown = ("sessions", "conversions")
    await collect(ga.web_metrics(CREDS, MARCH))
    assert all(
        [m["name"] for m in c.json()["metrics"]] == ["sessions", "keyEvents"] for c in stub.calls
    ), "totals and breakdowns alike"
    assert len(ga.report.retired_metrics) == 1


async def test_other_bad_requests_are_not_taken_for_retirements() -> None:
    bad = {
        "error": {"code": 400, "message": "Date range is invalid.", "status": "INVALID_ARGUMENT"}
    }
    stub = Stub().on("POST", RUN, Reply(400, bad))
    ga = connector(stub)
    with pytest.raises(ProviderError, match="Date range is invalid"):
        await collect(ga.daily_metrics(CREDS, MARCH))
    assert ga.report.retired_metrics == [] and len(stub.calls) == 1
