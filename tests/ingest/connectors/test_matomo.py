"""Matomo connector against a local Reporting API stand-in."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.connectors.base import (
    AuthExpired,
    Credentials,
    FetchWindow,
    ProviderError,
    SyncReport,
)
from services.ingest.connectors.matomo import MatomoConnector
from tests.ingest.connectors.stub import Reply, Sleeps, Stub, clock, collect, fixture

MARCH = FetchWindow(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
ERRORS = fixture("matomo/errors.json")
API = "/matomo/index.php"
REPORTS = {
    "VisitsSummary.get": "visits_summary_days",
    "Actions.get": "actions_get_days",
    "Referrers.getReferrerType": "referrer_type_days",
    "Referrers.getSocials": "socials_days",
    "Actions.getEntryPageUrls": "entry_pages_social_days",
    "SitesManager.getSiteFromId": "site",
}


def creds(stub: Stub) -> Credentials:
    return Credentials(
        access_token="a1b2c3d4e5f60718293a4b5c6d7e8f90",
        extra={"site_id": "3", "url": f"{stub.base_url}/matomo"},
    )


def connector(stub: Stub) -> MatomoConnector:
    return MatomoConnector(
        stub.client(),
        base_url="",
        api_version="5",
        report=SyncReport(),
        sleep=Sleeps(),
        now=clock(),
        jitter=lambda: 0.5,
    )


def api(call) -> Reply:
    return Reply(200, fixture(f"matomo/{REPORTS[call.form()['method']]}.json"))


async def test_daily_totals_with_token_in_the_body() -> None:
    stub = Stub().on("POST", API, api)
    mt = connector(stub)
    rows = await collect(mt.daily_metrics(creds(stub), MARCH))

    assert [c.form()["method"] for c in stub.calls] == ["VisitsSummary.get", "Actions.get"]
    form = stub.calls[0].form()
    assert form["token_auth"] == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert "token_auth" not in stub.calls[0].url, "the token never travels in a URL"
    assert (form["idSite"], form["period"], form["date"], form["format"]) == (
        "3",
        "day",
        "2026-03-01,2026-03-03",
        "JSON",
    )
    got = {(r.metric, r.day.isoformat()): r.value for r in rows}
    assert got == {
        ("sessions", "2026-03-01"): 1579,
        ("users", "2026-03-01"): 1518,
        ("bounces", "2026-03-01"): 1063,
        ("conversions", "2026-03-01"): 126,
        ("engaged_sessions", "2026-03-01"): 1579 - 1063,
        ("pageviews", "2026-03-01"): 2804,
        ("sessions", "2026-03-03"): 1466,
        ("users", "2026-03-03"): 1402,
        ("bounces", "2026-03-03"): 940,
        ("conversions", "2026-03-03"): 0,
        ("engaged_sessions", "2026-03-03"): 1466 - 940,
        ("pageviews", "2026-03-03"): 2655,
    }, "the [] day is no data, not zeros"
    assert mt.report.empty_answers == [
        "matomo VisitsSummary.get 2026-03-02",
        "matomo Actions.get 2026-03-02",
    ]


async def test_channels_social_networks_and_their_landing_pages() -> None:
    stub = Stub().on("POST", API, api)
    mt = connector(stub)
    rows = await collect(mt.web_metrics(creds(stub), MARCH))

    forms = [c.form() for c in stub.calls]
    assert [f["method"] for f in forms] == [
        "VisitsSummary.get",
        "Actions.get",
        "Referrers.getReferrerType",
        "Referrers.getSocials",
        "Actions.getEntryPageUrls",
    ]
    reports = forms[2:]
    assert all(f["filter_limit"] == "-1" for f in reports), "Matomo truncates at 100 rows otherwise"
    assert reports[2]["segment"] == "referrerType==social" and reports[2]["flat"] == "1"
    got = {(r.dimension, r.dimension_value, r.metric, r.day.isoformat()): r.value for r in rows}
    assert got[("total", "total", "sessions", "2026-03-01")] == 1579
    assert got[("total", "total", "pageviews", "2026-03-03")] == 2655
    assert got[("channel_group", "Social Networks", "sessions", "2026-03-01")] == 233
    assert got[("channel_group", "Search Engines", "engaged_sessions", "2026-03-03")] == 744 - 470
    assert got[("social_network", "facebook", "sessions", "2026-03-01")] == 120
    assert got[("social_network", "x", "sessions", "2026-03-03")] == 12  # Matomo's "Twitter"
    assert got[("social_network", "mastodon", "sessions", "2026-03-01")] == 17
    assert got[("social_network", "instagram", "conversions", "2026-03-01")] == 3
    assert got[("social_landing_page", "/boutique/yirgacheffe", "sessions", "2026-03-01")] == 140
    assert got[("social_landing_page", "/", "engaged_sessions", "2026-03-01")] == 61 - 40
    assert (
        "social_landing_page",
        "/blogue/eau?utm_source=facebook",
        "sessions",
        "2026-03-01",
    ) in got
    assert not any(k[3] == "2026-03-02" for k in got)


@pytest.mark.parametrize("name", ["bad_token", "no_view_access"])
async def test_http_200_access_errors_are_auth_expired(name: str) -> None:
    stub = Stub().on("POST", API, Reply(200, ERRORS[name]))
    mt = connector(stub)
    with pytest.raises(AuthExpired, match=ERRORS[name]["message"][:20]):
        await collect(mt.daily_metrics(creds(stub), MARCH))
    assert len(stub.calls) == 1


@pytest.mark.parametrize("name", ["unknown_method", "bad_date"])
async def test_http_200_errors_are_errors(name: str) -> None:
    stub = Stub().on("POST", API, Reply(200, ERRORS[name]))
    mt = connector(stub)
    with pytest.raises(ProviderError) as caught:
        await collect(mt.web_metrics(creds(stub), MARCH))
    assert caught.value.status == 200 and not caught.value.retryable
    assert str(caught.value) == ERRORS[name]["message"]


async def test_site_name_from_the_instance() -> None:
    stub = Stub().on("POST", API, api)
    ref = await connector(stub).account(creds(stub))
    assert (ref.external_id, ref.name, ref.handle) == (
        "3",
        "Café Boréal",
        "https://cafeboreal.example",
    )


async def test_a_login_page_instead_of_json_is_an_error() -> None:
    stub = Stub().on("POST", API, Reply(200, raw=b"<html><body>Sign in</body></html>"))
    with pytest.raises(ProviderError, match="not JSON"):
        await connector(stub).account(creds(stub))


async def test_no_instance_url_is_a_clear_error() -> None:
    stub = Stub()
    mt = connector(stub)
    with pytest.raises(ProviderError, match="no Matomo URL"):
        await mt.account(Credentials(access_token="t", extra={"site_id": "3"}))
