"""Every social network importer against fixtures reproducing the real exports' quirks."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import new_client_id
from tests.ingest.helpers import SNAPSHOT, accounts, daily, make_account, posts, run, totals

UTC = dt.UTC


async def test_meta_facebook_posts(db):
    cid = new_client_id()
    out = await run(db, cid, "meta_facebook_posts.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "meta_facebook_posts"
    assert out.summary().posts == 3 and out.summary().accounts == 1
    page = (await accounts(db, cid))["1234567890"]
    assert page.network == "facebook" and page.name == "Tourisme Haute-Côte"
    stored = await posts(db, cid)
    p, m = stored["1234567890_1111"]
    # Multi-line quoted caption with doubled quotes and emoji, intact.
    assert p.text == (
        "Le fjord au lever du soleil 🌅\nVenez nous voir cet été!\n"
        '« Réservez » dès maintenant, "places limitées"'
    )
    # 09/28/2026 18:12 without offset: the account's zone (Toronto, EDT) → 22:12 UTC.
    assert p.published_at == dt.datetime(2026, 9, 28, 22, 12, tzinfo=UTC)
    assert p.content_type == "photo" and p.format == "Photos"
    assert m == {
        "views": 5321,
        "reach": 4210,
        "engagements": 187,  # "Reactions, Comments and Shares", a header with a comma
        "reactions": 150,
        "comments": 25,
        "shares": 12,
        "clicks": 96,
    }
    reel, m2 = stored["1234567890_2222"]
    assert reel.content_type == "reel" and reel.duration_seconds == 45
    assert reel.title == "Baleines à Tadoussac"
    assert "clicks" not in m2  # empty cell = no data, never 0
    assert stored["1234567890_3333"][0].content_type == "link"


async def test_meta_facebook_posts_french_excel(db):
    cid = new_client_id()
    out = await run(db, cid, "meta_facebook_posts_fr.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "meta_facebook_posts"
    stored = await posts(db, cid)
    p, m = stored["1234567890_4444"]
    # Windows-1252 text, ';' inside a quoted cell, day/month order, NBSP thousands.
    assert p.text == "Sentier des caps; vue imprenable"
    assert p.published_at == dt.datetime(2026, 9, 28, 22, 12, tzinfo=UTC)
    assert m["views"] == 12345 and m["reach"] == 9870 and m["clicks"] == 154
    reel, m2 = stored["1234567890_5555"]
    assert reel.duration_seconds == 37.5  # decimal comma
    assert reel.published_at == dt.datetime(2026, 10, 3, 11, 30, tzinfo=UTC)
    assert m2 == {"views": 2001, "reach": 1500}  # '-' and empty: no data


async def test_meta_instagram_posts_with_legacy_impressions(db):
    cid = new_client_id()
    out = await run(db, cid, "meta_instagram_posts.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "meta_instagram_posts"
    acc = (await accounts(db, cid))["17841400000000000"]
    assert acc.network == "instagram" and acc.handle == "tourismehautecote"
    stored = await posts(db, cid)
    carousel, m = stored["17900000000000001"]
    assert carousel.content_type == "carousel"
    # The older export's "Impressions" stays impressions (Meta renamed it to Views).
    assert m == {
        "impressions": 3400,
        "reach": 2900,
        "reactions": 410,
        "shares": 12,
        "follows": 3,
        "comments": 27,
        "saves": 55,
    }
    assert stored["17900000000000002"][0].content_type == "reel"
    bare, m3 = stored["17900000000000003"]
    assert bare.content_type == "photo" and m3 == {}


async def test_facebook_insights_legacy_two_header_rows(db):
    cid = new_client_id()
    out = await run(db, cid, "facebook_insights_legacy.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "facebook_insights_legacy"
    assert out.summary().posts == 2  # the description row is not a post
    assert set(await accounts(db, cid)) == {"951745098223517"}  # from "pageid_postid"
    stored = await posts(db, cid)
    photo, m = stored["951745098223517_980422845355742"]
    assert photo.published_at == dt.datetime(2015, 10, 2, 1, 0, tzinfo=UTC)
    assert photo.text == "Nouvelle saison!\nOn vous attend."
    assert m == {"reach": 2752, "impressions": 5091, "clicks": 159}
    video, mv = stored["951745098223517_980422845355743"]
    # Duplicate "Lifetime Organic/Paid Video Views": the (Total Count) ones, added up.
    assert mv["video_views"] == 2500 + 300
    assert video.content_type == "video"


async def test_x_tweet_activity(db):
    cid = new_client_id()
    out = await run(db, cid, "tweet_activity_metrics_balisedemo_20260501_20260531_en.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "x_tweet_activity"
    assert set(await accounts(db, cid)) == {"balisedemo"}
    stored = await posts(db, cid)
    t1, m1 = stored["1786000000000000001"]
    assert t1.published_at == dt.datetime(2026, 5, 4, 13, 12, tzinfo=UTC)
    assert t1.text.startswith("La saison des baleines commence 🐋 #Tadoussac\nRéservez")
    assert m1 == {
        "impressions": 1777,  # written "1777.0"
        "engagements": 64,
        "shares": 5,
        "comments": 2,
        "reactions": 21,
        "profile_visits": 9,
        "link_clicks": 12,
        "follows": 1,
    }
    _, m2 = stored["1786000000000000002"]
    # Promoted tweet: organic + promoted.
    assert m2["impressions"] == 950 + 5000 and m2["reactions"] == 12 + 60
    assert m2["comments"] == 0 + 3 and m2["link_clicks"] == 0 + 40


async def test_x_tweets_attach_to_the_clients_account_by_handle(db):
    cid = new_client_id()
    acc = await make_account(db, cid, "x", "99887766", handle="@BaliseDemo")
    out = await run(db, cid, "tweet_activity_metrics_balisedemo_20260501_20260531_en.csv", known=[])
    assert out.status == "succeeded"
    # Without the account in "known", a new one is made from the handle...
    assert set(await accounts(db, cid)) == {"99887766", "balisedemo"}
    cid2 = new_client_id()
    acc = await make_account(db, cid2, "x", "99887766", handle="@BaliseDemo")
    from services.ingest.imports.repository import known

    out = await run(
        db,
        cid2,
        "tweet_activity_metrics_balisedemo_20260501_20260531_en.csv",
        known=[known(acc)],
    )
    # ...with it, the tweets land on the client's X account (matched by handle).
    assert set(await accounts(db, cid2)) == {"99887766"}
    assert out.counts is not None and out.counts.accounts_created == 0


async def test_x_daily_activity(db):
    cid = new_client_id()
    out = await run(db, cid, "daily_tweet_activity_metrics_balisedemo_20260501_20260531_en.csv")
    assert out.status == "succeeded", out.errors
    assert out.format == "x_daily_activity"
    d = await daily(db, cid)
    assert d[("balisedemo", "impressions", dt.date(2026, 5, 1))] == 312
    assert d[("balisedemo", "impressions", dt.date(2026, 5, 3))] == 1177 + 900
    assert d[("balisedemo", "link_clicks", dt.date(2026, 5, 2))] == 8
    assert d[("balisedemo", "shares", dt.date(2026, 5, 1))] == 0  # a real zero, "0.0"


async def test_linkedin_content_xls(db):
    cid = new_client_id()
    out = await run(db, cid, "balisedemo_content_1746057600000.xls")
    assert out.status == "succeeded", out.errors
    assert out.format == "linkedin_page"
    assert set(await accounts(db, cid)) == {"balisedemo"}  # company from the file name
    d = await daily(db, cid)
    assert d[("balisedemo", "impressions", dt.date(2026, 5, 2))] == 1504
    assert d[("balisedemo", "reach", dt.date(2026, 5, 2))] == 802
    assert d[("balisedemo", "shares", dt.date(2026, 5, 2))] == 3
    assert d[("balisedemo", "reactions", dt.date(2026, 5, 3))] == -1  # retracted, kept
    stored = await posts(db, cid)
    assert set(stored) == {
        "urn:li:activity:7190000000000000001",
        "urn:li:activity:7190000000000000002",
    }
    p, m = stored["urn:li:activity:7190000000000000002"]
    assert p.content_type == "video" and p.format == "Video"
    assert m == {
        "impressions": 802,
        "video_views": 210,
        "clicks": 20,
        "reactions": 12,
        "comments": 2,
        "shares": 3,
        "follows": 0,
    }
    assert stored["urn:li:activity:7190000000000000001"][0].text.startswith(
        "Nouvelle saison des croisières aux baleines 🐋\n"
    )


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "balisedemo_followers_1746057600000.xlsx",
            {("follows", dt.date(2026, 5, 1)): 4, ("follows", dt.date(2026, 5, 2)): 8,
             ("follows", dt.date(2026, 5, 3)): 3},
        ),
        (
            "balisedemo_visitors_1746057600000.xlsx",
            {("profile_visits", dt.date(2026, 5, 1)): 31,
             ("profile_visits", dt.date(2026, 5, 2)): 35},
        ),
    ],
)  # fmt: skip
async def test_linkedin_followers_and_visitors_xlsx(db, name, expected):
    cid = new_client_id()
    out = await run(db, cid, name)
    assert out.status == "succeeded", out.errors
    d = await daily(db, cid)
    assert {(m, day): v for (_, m, day), v in d.items()} == expected


async def test_linkedin_legacy_update_sheet(db):
    cid = new_client_id()
    out = await run(db, cid, "legacy_content_1571097600000.xlsx")
    assert out.status == "succeeded", out.errors
    stored = await posts(db, cid)
    p, m = stored["urn:li:share:6500000000000000001"]
    assert m["shares"] == 0 and m["reactions"] == 9
    assert p.published_at is not None and p.published_at.date() == dt.date(2019, 10, 15)


async def test_youtube_table_total_row_is_the_channel_total(db):
    cid = new_client_id()
    chan = await make_account(db, cid, "youtube", "UC123", name="Tourisme HC")
    refused = await run(db, new_client_id(), "youtube_table_data.csv")
    assert refused.status == "refused"
    assert "which account" in refused.errors[0].reason
    out = await run(db, cid, "youtube_table_data.csv", account=chan)
    assert out.status == "succeeded", out.errors
    assert out.format == "youtube_studio_table"
    stored = await posts(db, cid)
    assert set(stored) == {"dQw4w9WgXcQ", "aBcDeFgHiJk"}  # "Total" is not a video
    v, m = stored["dQw4w9WgXcQ"]
    assert v.title == "Les baleines de Tadoussac 🐋" and v.duration_seconds == 312
    assert v.published_at == dt.datetime(2026, 5, 8, 4, 0, tzinfo=UTC)  # start of the day
    assert m["views"] == 12004 and m["watch_time_seconds"] == pytest.approx(611.5 * 3600)
    assert m["impressions"] == 120331
    t = await totals(db, cid)
    assert t["views"].value == 20113  # not 12004 + 6500
    assert t["watch_time_seconds"].value == pytest.approx(845.2305 * 3600)
    assert t["views"].source_row == 2


async def test_youtube_totals_daily(db):
    cid = new_client_id()
    chan = await make_account(db, cid, "youtube", "UC123")
    out = await run(db, cid, "youtube_totals.csv", account=chan)
    assert out.status == "succeeded", out.errors
    assert out.format == "youtube_studio_totals"
    assert await daily(db, cid) == {
        ("UC123", "views", dt.date(2026, 5, 1)): 640,
        ("UC123", "views", dt.date(2026, 5, 2)): 702,
        ("UC123", "views", dt.date(2026, 5, 3)): 1201,
    }


async def test_pinterest_pins_and_overview(db):
    cid = new_client_id()
    acc = await make_account(db, cid, "pinterest", "tourismehc")
    out = await run(db, cid, "pinterest_pins.csv", account=acc)
    assert out.status == "succeeded", out.errors
    stored = await posts(db, cid)
    pin, m = stored["1125899906842624001"]
    assert pin.content_type == "pin" and pin.title == "Road trip Côte-Nord"
    assert m == {
        "impressions": 15204,  # "15,204"
        "engagements": 420,
        "clicks": 180,
        "link_clicks": 75,
        "saves": 96,
    }
    assert stored["1125899906842624002"][1]["video_views"] == 1022
    assert stored["1125899906842624002"][0].content_type == "video"
    out = await run(db, cid, "pinterest_overview.csv", account=acc)
    assert out.status == "succeeded", out.errors
    d = await daily(db, cid)
    assert d[("tourismehc", "impressions", dt.date(2026, 5, 2))] == 1388
    assert not any(m == "reach" for _, m, _ in d)  # "Total audience" is not stored


async def test_snapshot_date_is_the_imports(db):
    cid = new_client_id()
    await run(db, cid, "meta_facebook_posts.csv")
    from sqlmodel import select

    from services.ingest.store.models import PostMetric

    dates = {pm.snapshot_date for pm in (await db.exec(select(PostMetric))).all()}
    assert SNAPSHOT in dates
