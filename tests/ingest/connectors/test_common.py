"""What every connector shares, checked on each provider: settings, protocol, retries.

Each connector is built the way the sync layer builds it (``registry.build`` from
``IngestSettings``), its base URL pointed at a local stand-in, and its ``account()`` call
is made to meet 5xx answers and timeouts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from services.ingest.config import IngestSettings
from services.ingest.connectors import registry
from services.ingest.connectors.base import (
    Connector,
    Credentials,
    ProfileSource,
    ProviderError,
    PublicDataSource,
    SyncReport,
    WebAnalyticsSource,
)
from tests.conftest import TEST_SECRET
from tests.ingest.connectors.stub import Reply, Sleeps, Stub, clock, fixture

# provider -> (credentials, method, path answered by the stand-in, fixture it answers with)
ACCOUNT_CALLS: dict[str, tuple[Credentials, str, str, str]] = {
    "facebook": (
        Credentials(access_token="t", extra={"page_id": "104217591234567"}),
        "GET",
        "/v27.0/104217591234567",
        "facebook/page_fields.json",
    ),
    "instagram": (
        Credentials(access_token="t", extra={"ig_user_id": "17841405822304914"}),
        "GET",
        "/v27.0/17841405822304914",
        "instagram/user.json",
    ),
    "x": (Credentials(access_token="t"), "GET", "/2/users/me", "x/user_me.json"),
    "linkedin": (
        Credentials(access_token="t", extra={"organization_id": "2414183"}),
        "GET",
        "/rest/organizations/2414183",
        "linkedin/organization.json",
    ),
    "youtube": (
        Credentials(access_token="t"),
        "GET",
        "/youtube/v3/channels",
        "youtube/channels_mine.json",
    ),
    "pinterest": (
        Credentials(access_token="t"),
        "GET",
        "/v5/user_account",
        "pinterest/user_account.json",
    ),
    "ga4": (
        Credentials(access_token="t", extra={"property_id": "312345678"}),
        "GET",
        "/v1beta/properties/312345678/metadata",
        "ga4/metadata.json",
    ),
    "matomo": (
        Credentials(access_token="t", extra={"site_id": "3"}),
        "POST",
        "/matomo/index.php",
        "matomo/site.json",
    ),
    "plausible": (
        Credentials(access_token="t", extra={"site_id": "cafeboreal.example"}),
        "POST",
        "/api/v2/query",
        "plausible/aggregate_day.json",
    ),
}
STUB_BASES = {
    "facebook": "",
    "instagram": "",
    "x": "",
    "linkedin": "/rest",
    "youtube": "/youtube",
    "pinterest": "",
    "ga4": "",
    "matomo": "/matomo",
    "plausible": "",
}


def settings(tmp_path: Path, **overrides: Any) -> IngestSettings:
    return IngestSettings(
        database_url="sqlite+aiosqlite:///:memory:",
        secret_key=TEST_SECRET,
        var_dir=tmp_path,
        environment="test",
        **overrides,
    )


def build(name: str, stub: Stub, tmp_path: Path, sleeps: Sleeps, **client: Any):
    base = {f"{name}_base_url": stub.base_url + STUB_BASES[name]}
    if name == "youtube":
        base["youtube_analytics_base_url"] = stub.base_url
    return registry.build(
        name,
        stub.client(**client),
        settings(tmp_path, **base),
        report=SyncReport(),
        sleep=sleeps,
        now=clock(),
        jitter=lambda: 0.5,
    )


def test_default_endpoints_and_versions(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.facebook_base_url, s.facebook_api_version) == ("https://graph.facebook.com", "v27.0")
    assert (s.instagram_base_url, s.instagram_api_version) == (
        "https://graph.facebook.com",
        "v27.0",
    )
    assert (s.x_base_url, s.x_api_version) == ("https://api.x.com", "2")
    assert (s.linkedin_base_url, s.linkedin_api_version) == (
        "https://api.linkedin.com/rest",
        "202608",
    )
    assert (s.youtube_base_url, s.youtube_api_version) == (
        "https://www.googleapis.com/youtube",
        "v3",
    )
    assert s.youtube_analytics_base_url == "https://youtubeanalytics.googleapis.com"
    assert (s.pinterest_base_url, s.pinterest_api_version) == ("https://api.pinterest.com", "v5")
    assert (s.ga4_base_url, s.ga4_api_version) == ("https://analyticsdata.googleapis.com", "v1beta")
    assert (s.plausible_base_url, s.plausible_api_version) == ("https://plausible.io", "v2")
    assert s.matomo_base_url == "", "Matomo is self-hosted: each connection names its instance"
    for name in registry.CONNECTORS:
        for suffix in ("base_url", "api_version"):
            field = IngestSettings.model_fields[f"{name}_{suffix}"]
            assert field.description, f"INGEST_{name.upper()}_{suffix.upper()} is documented"


def test_environment_overrides_base_url_and_version(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("INGEST_FACEBOOK_BASE_URL", "https://meta-proxy.internal/graph")
    monkeypatch.setenv("INGEST_LINKEDIN_API_VERSION", "202607")
    s = settings(tmp_path)
    fb = registry.build("facebook", registry.http_client(s), s)
    li = registry.build("linkedin", registry.http_client(s), s)
    assert fb.base_url == "https://meta-proxy.internal/graph" and fb.api_version == "v27.0"
    assert li.api_version == "202607" and li.report.api_version == "202607"


def test_every_connector_speaks_the_protocol(tmp_path: Path) -> None:
    s = settings(tmp_path)
    http = registry.http_client(s)
    built = {name: registry.build(name, http, s) for name in registry.CONNECTORS}
    assert all(isinstance(c, Connector) for c in built.values())
    social = {"facebook", "instagram", "x", "linkedin", "youtube", "pinterest"}
    web = {"ga4", "matomo", "plausible"}
    assert {n for n, c in built.items() if isinstance(c, ProfileSource)} == social
    assert {n for n, c in built.items() if isinstance(c, WebAnalyticsSource)} == web
    assert {n for n, c in built.items() if isinstance(c, PublicDataSource)} == {
        "facebook",
        "instagram",
        "x",
        "youtube",
        "pinterest",
    }
    assert {c.network.value for c in built.values()} == set(registry.CONNECTORS)


def test_unknown_provider_is_named(tmp_path: Path) -> None:
    s = settings(tmp_path)
    with pytest.raises(KeyError, match="no connector for 'myspace'"):
        registry.build("myspace", registry.http_client(s), s)


@pytest.mark.parametrize("name", sorted(ACCOUNT_CALLS))
async def test_server_errors_are_retried_with_backoff(name: str, tmp_path: Path) -> None:
    creds, method, path, answer = ACCOUNT_CALLS[name]
    stub = Stub()
    stub.on(method, path, [Reply(503, {}), Reply(502, {}), Reply(200, fixture(answer))])
    if name == "matomo":
        creds = Credentials(
            access_token="t", extra={**creds.extra, "url": stub.base_url + "/matomo"}
        )
    sleeps = Sleeps()
    connector = build(name, stub, tmp_path, sleeps)
    ref = await connector.account(creds)
    assert ref.network.value == name
    assert len(stub.calls) == 3 and connector.report.requests == 3
    assert sleeps.waits == [0.375, 0.75], "exponential: 0.5 s then 1 s ceilings, half jittered"


@pytest.mark.parametrize("name", sorted(ACCOUNT_CALLS))
async def test_server_errors_give_up_retryable_after_the_bound(name: str, tmp_path: Path) -> None:
    creds, method, path, _ = ACCOUNT_CALLS[name]
    stub = Stub().on(method, path, Reply(503, {"error": "unavailable"}))
    if name == "matomo":
        creds = Credentials(
            access_token="t", extra={**creds.extra, "url": stub.base_url + "/matomo"}
        )
    sleeps = Sleeps()
    connector = build(name, stub, tmp_path, sleeps)
    with pytest.raises(ProviderError) as caught:
        await connector.account(creds)
    assert caught.value.retryable and caught.value.status == 503
    assert len(stub.calls) == 4, "the first try and settings.connector_retries = 3"
    assert sleeps.waits == [0.375, 0.75, 1.5]


@pytest.mark.parametrize("name", sorted(ACCOUNT_CALLS))
async def test_timeouts_are_retried_then_given_up(name: str, tmp_path: Path) -> None:
    creds, method, path, answer = ACCOUNT_CALLS[name]
    stub = Stub().on(method, path, Reply(200, fixture(answer)))
    if name == "matomo":
        creds = Credentials(
            access_token="t", extra={**creds.extra, "url": stub.base_url + "/matomo"}
        )
    sleeps = Sleeps()
    connector = build(name, stub, tmp_path, sleeps, time_out_first=2)
    await connector.account(creds)
    assert len(stub.calls) == 1 and connector.report.requests == 3
    assert len(sleeps.waits) == 2

    sleeps = Sleeps()
    connector = build(name, stub, tmp_path, sleeps, time_out_first=10)
    with pytest.raises(ProviderError, match="ReadTimeout") as caught:
        await connector.account(creds)
    assert caught.value.retryable and connector.report.requests == 4


async def test_backoff_never_exceeds_its_cap(tmp_path: Path) -> None:
    stub = Stub().on("GET", "/2/users/me", Reply(503, {}))
    sleeps = Sleeps()
    s = settings(
        tmp_path, x_base_url=stub.base_url, connector_retries=6, connector_backoff_cap_seconds=4.0
    )
    x = registry.build("x", stub.client(), s, sleep=sleeps, now=clock(), jitter=lambda: 1.0)
    with pytest.raises(ProviderError):
        await x.account(Credentials(access_token="t"))
    assert sleeps.waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_retry_after_on_a_503_is_honoured_within_the_cap(tmp_path: Path) -> None:
    stub = Stub().on(
        "GET",
        "/v5/user_account",
        [Reply(503, {}, {"retry-after": "7"}), Reply(200, fixture("pinterest/user_account.json"))],
    )
    sleeps = Sleeps()
    pin = build("pinterest", stub, tmp_path, sleeps)
    await pin.account(Credentials(access_token="t"))
    assert sleeps.waits == [7.0]


def test_clock_is_the_injected_one(tmp_path: Path) -> None:
    s = settings(tmp_path)
    moment = dt.datetime(2031, 1, 2, 3, 4, tzinfo=dt.UTC)
    yt = registry.build("youtube", registry.http_client(s), s, now=clock(moment))
    assert yt.today() == dt.date(2031, 1, 2)
