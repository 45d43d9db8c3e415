"""Website analytics importers (GA4, Matomo, Plausible) and Balise's long format."""

from __future__ import annotations

import datetime as dt

from tests.conftest import new_client_id
from tests.ingest.helpers import accounts, daily, make_account, run, web, web_period

MAY1, MAY2, MAY3, MAY31 = (dt.date(2026, 5, d) for d in (1, 2, 3, 31))


async def test_ga4_ui_export_period_table_and_date_table(db):
    cid = new_client_id()
    out = await run(db, cid, "ga4_traffic_acquisition.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "ga4_ui_export"
    acc = (await accounts(db, cid))["Site web"]  # "# Property: Site web - GA4"
    assert acc.network == "ga4"
    period = await web_period(db, cid)
    assert period[("channel_group", MAY1, MAY31, "Organic Social", "sessions")] == 1531
    assert period[("channel_group", MAY1, MAY31, "Organic Search", "engaged_sessions")] == 3901
    assert period[("channel_group", MAY1, MAY31, "Direct", "conversions")] == 45  # Key events
    # The Grand total row: the property's de-duplicated users, not the sum of the rows.
    assert period[("total", MAY1, MAY31, "", "users")] == 7980
    assert not any(k[4] in ("engagement_rate",) for k in period)
    # The second table (Date, Sessions) gives daily rows; nothing of the period table
    # was spread over days.
    assert await web(db, cid) == {
        ("total", MAY1, "", "sessions"): 301,
        ("total", MAY2, "", "sessions"): 355,
        ("total", MAY3, "", "sessions"): 298,
    }


async def test_ga4_french_one_day_report_is_daily(db):
    cid = new_client_id()
    out = await run(db, cid, "ga4_fr_one_day.csv")
    assert out.status == "succeeded", out.errors
    june1 = dt.date(2026, 6, 1)
    rows = await web(db, cid)
    assert rows[("channel_group", june1, "Organic Social", "sessions")] == 61
    assert rows[("channel_group", june1, "Direct", "engaged_sessions")] == 51
    assert rows[("channel_group", june1, "Organic Social", "users")] == 52
    assert await web_period(db, cid) == {}


async def test_matomo_utf16_csv_breakdown_by_social_network(db):
    cid = new_client_id()
    site = await make_account(db, cid, "matomo", "3", name="Site Matomo")
    out = await run(db, cid, "matomo_Referrers.getSocials_day.csv", account=site)
    assert out.status == "succeeded", out.errors
    assert out.format == "matomo_export"
    rows = await web(db, cid)
    assert rows[("social_network", MAY1, "Facebook", "sessions")] == 44
    assert rows[("social_network", MAY1, "Facebook", "users")] == 40
    assert rows[("social_network", MAY1, "Facebook", "engaged_sessions")] == 44 - 20
    assert rows[("social_network", MAY2, "LinkedIn", "conversions")] == 0
    assert not any(k[3] == "bounce_rate" for k in rows)  # "45%" rates are not stored


async def test_matomo_tsv_visits_summary(db):
    cid = new_client_id()
    site = await make_account(db, cid, "matomo", "3")
    out = await run(db, cid, "matomo_VisitsSummary.get_day.tsv", account=site)
    assert out.status == "succeeded", out.errors
    rows = await web(db, cid)
    assert rows[("total", MAY1, "", "sessions")] == 352
    assert rows[("total", MAY2, "", "bounces")] == 161
    assert not any(k[1] == MAY3 for k in rows)  # an empty day is no data, not zeros


async def test_matomo_breakdown_needs_the_report_name(db, tmp_path):
    from tests.ingest.helpers import FIXTURES

    renamed = tmp_path / "export.csv"
    renamed.write_bytes((FIXTURES / "matomo_Referrers.getSocials_day.csv").read_bytes())
    cid = new_client_id()
    site = await make_account(db, cid, "matomo", "3")
    out = await run(db, cid, renamed, account=site)
    assert out.status == "refused"
    assert "report" in out.errors[0].reason


async def test_plausible_visitors_sources_entry_pages(db):
    cid = new_client_id()
    site = await make_account(db, cid, "plausible", "example.org")
    for name in (
        "imported_visitors_20260501_20260503.csv",
        "imported_sources_20260501_20260502.csv",
        "imported_entry_pages_20260501_20260502.csv",
    ):
        out = await run(db, cid, name, account=site)
        assert out.status == "succeeded", (name, out.errors)
        assert out.format == "plausible_export"
    rows = await web(db, cid)
    assert rows[("total", MAY1, "", "sessions")] == 352
    assert rows[("total", MAY1, "", "users")] == 310
    assert rows[("total", MAY1, "", "engaged_sessions")] == 352 - 150
    # Two Facebook rows of May 1 (two referrers) add up.
    assert rows[("source_medium", MAY1, "Facebook / (none)", "sessions")] == 44 + 11
    assert rows[("social_network", MAY1, "facebook", "sessions")] == 44 + 11
    assert rows[("source_medium", MAY2, "Facebook / social", "sessions")] == 36
    assert ("social_network", MAY1, "google", "sessions") not in rows
    assert rows[("landing_page", MAY1, "/baleines", "sessions")] == 44
    assert rows[("landing_page", MAY1, "/baleines", "engaged_sessions")] == 44 - 12


async def test_plausible_table_balise_does_not_use_is_refused(db):
    cid = new_client_id()
    site = await make_account(db, cid, "plausible", "example.org")
    out = await run(db, cid, "imported_browsers_20260501_20260502.csv", account=site)
    assert out.status == "refused"
    assert "browsers" in out.errors[0].reason
    assert await web(db, cid) == {}


async def test_balise_long_format(db):
    cid = new_client_id()
    out = await run(db, cid, "balise_daily.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "balise_daily_csv"
    assert await daily(db, cid) == {
        ("1234567890", "followers", MAY1): 1532,
        ("1234567890", "followers", MAY2): 1535,
        ("1234567890", "views", MAY1): 3321,
        ("17841400000000000", "followers", MAY1): 2210,
    }  # "NA" reach: no data
    accs = await accounts(db, cid)
    assert accs["17841400000000000"].network == "instagram"
