"""Every number a connector yields traces to a source field in the metric catalogue."""

from __future__ import annotations

from pathlib import Path

from services.ingest.config import IngestSettings
from services.ingest.connectors import facebook, ga4, instagram, pinterest, plausible, youtube
from shared import metrics_catalogue, metrics_sources
from shared.schemas.ingest import Network
from tests.conftest import TEST_SECRET

CONNECTOR_NETWORKS = (
    "facebook",
    "instagram",
    "x",
    "linkedin",
    "youtube",
    "pinterest",
    "ga4",
    "matomo",
    "plausible",
)


def test_a_field_feeds_one_metric_per_network() -> None:
    seen: dict[tuple[str, str], str] = {}
    for metric in metrics_catalogue.CATALOGUE.values():
        for src in metric.sources:
            key = (src.network, src.field)
            assert key not in seen, f"{key} feeds both {seen[key]} and {metric.name}"
            seen[key] = metric.name
            assert src.network in {n.value for n in Network}


def test_retired_fields_name_a_current_replacement_of_the_same_metric() -> None:
    retired = 0
    for metric in metrics_catalogue.CATALOGUE.values():
        current = {(s.network, s.field) for s in metric.sources}
        for old in metric.replaces:
            retired += 1
            assert old.replaced_by, f"{old.field} says what replaced it"
            assert (old.network, old.replaced_by) in current, (
                f"{old.field} → {old.replaced_by} must be a source of {metric.name}"
            )
            found = metrics_catalogue.retired_field(old.network, old.field)
            assert found is not None and found.replaced_by == old.replaced_by
    assert retired >= 10
    views = metrics_catalogue.get("views")
    assert ("facebook", "page_insights.page_impressions", "page_insights.page_media_view") in {
        (r.network, r.field, r.replaced_by) for r in views.replaces
    }
    assert ("instagram", "media_insights.impressions", "media_insights.views") in {
        (r.network, r.field, r.replaced_by) for r in views.replaces
    }


def test_field_map_and_metric_for() -> None:
    fb = metrics_catalogue.field_map("facebook")
    assert fb["page_insights.page_media_view"] == "views"
    assert fb["post.shares.count"] == "shares"
    assert (
        metrics_catalogue.metric_for("x", "tweet.public_metrics.impression_count") == "impressions"
    )
    assert metrics_catalogue.retired_field("x", "tweet.public_metrics.like_count") is None


def test_every_requested_provider_field_is_in_the_catalogue() -> None:
    requested = {
        "facebook": [f"page_insights.{m}" for m in facebook.PAGE_METRICS]
        + [f"post_insights.{m}" for m in facebook.VIDEO_POST_METRICS],
        "instagram": [
            f"user_insights.{m}" for m in instagram.ACCOUNT_SERIES + instagram.ACCOUNT_TOTALS
        ]
        + [f"media_insights.{m}" for ms in instagram.MEDIA_METRICS.values() for m in ms],
        "youtube": [
            f"analytics.{m}" for m in youtube.ANALYTICS_METRICS if m != "estimatedMinutesWatched"
        ]
        + ["analytics.estimatedMinutesWatched"],
        "pinterest": [f"user_account_analytics.{m}" for m in pinterest.USER_METRICS]
        + [
            f"pin_analytics.{m}"
            for m in pinterest.PIN_WINDOW_METRICS + pinterest.PIN_LIFETIME_METRICS
        ],
        "ga4": [f"runReport.{m}" for m in ga4.TOTALS + ga4.BREAKDOWN],
        "plausible": [f"query.{m}" for m in plausible.TOTALS + plausible.BREAKDOWN],
    }
    for network, fields in requested.items():
        known = metrics_catalogue.field_map(network)
        missing = [f for f in fields if f not in known]
        assert not missing, f"{network} asks for fields the catalogue does not trace: {missing}"


def test_catalogue_versions_are_the_connectors_default_versions(tmp_path: Path) -> None:
    s = IngestSettings(
        database_url="sqlite+aiosqlite:///:memory:", secret_key=TEST_SECRET, var_dir=tmp_path
    )
    assert (
        metrics_sources.GRAPH
        == f"graph {s.facebook_api_version}"
        == f"graph {s.instagram_api_version}"
    )
    assert f"x api v{s.x_api_version}" == metrics_sources.X_API
    assert f"linkedin {s.linkedin_api_version}" == metrics_sources.LINKEDIN
    assert f"youtube data {s.youtube_api_version}" == metrics_sources.YT_DATA
    assert f"youtube analytics {s.youtube_analytics_api_version}" == metrics_sources.YT_ANALYTICS
    assert f"pinterest {s.pinterest_api_version}" == metrics_sources.PINTEREST
    assert f"ga4 data {s.ga4_api_version}" == metrics_sources.GA4
    assert f"matomo {s.matomo_api_version}" == metrics_sources.MATOMO
    assert f"plausible stats {s.plausible_api_version}" == metrics_sources.PLAUSIBLE


def test_each_connector_network_has_sources() -> None:
    for network in CONNECTOR_NETWORKS:
        assert metrics_catalogue.field_map(network), f"{network} has no source fields"
    for name in ("following", "posts_total", "lifetime_views", "page_likes"):
        assert metrics_catalogue.get(name).aggregation == metrics_catalogue.Aggregation.last
