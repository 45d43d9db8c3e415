"""The audit: hand-computed figures on a small client, findings, website, tenancy."""

from __future__ import annotations

import datetime as dt

import pytest

from services.ingest.audit import service as audit_service
from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, add_post, add_web, at, create_account

D = dt.date
MARCH = {"start": "2024-03-01", "end": "2024-03-31", "min_sample": 3}


async def seed_client(db, cid):
    """Facebook (Toronto): 1000 → 1100 followers in March, 900 → 950 in February.

    March: 3 videos (2, 3, 4 Mar, 100 engagements each) and 3 photos (5, 6, 7 Mar, 40 each),
    all at 15:00 UTC = 10:00 EST, with 1000 followers: ER 10 % and 4 %. Then no post until the
    end of March (24 days: 8–31 Mar). February: 3 posts of 20 engagements at 900 followers.
    Website (GA4): March 1000 sessions, 100 from social networks (Facebook 80, Instagram 20),
    landing on /ete (70) and / (30); February 500 sessions, 25 from Facebook.
    """
    fb = await create_account(db, cid, "facebook", n=1, name="Page FB")
    await add_daily(
        db,
        fb,
        "followers",
        {D(2024, 2, 1): 900, D(2024, 2, 29): 950, D(2024, 3, 1): 1000, D(2024, 3, 31): 1100},
    )
    for day in (2, 3, 4):
        await add_post(
            db,
            fb,
            at(2024, 3, day, 15),
            content_type="video",
            format="Reel",
            metrics={"engagements": 100},
            external_id=f"v{day}",
        )
    for day in (5, 6, 7):
        await add_post(
            db,
            fb,
            at(2024, 3, day, 15),
            content_type="photo",
            format="Photo",
            metrics={"engagements": 40},
            external_id=f"p{day}",
        )
    for day in (10, 11, 12):
        await add_post(
            db,
            fb,
            at(2024, 2, day, 15),
            content_type="photo",
            metrics={"engagements": 20},
            external_id=f"f{day}",
        )
    await create_account(db, cid, "linkedin", n=2, name="LinkedIn sans données")
    ga = await create_account(db, cid, "ga4", n=3, name="Site web")
    await add_web(
        db,
        ga,
        D(2024, 3, 10),
        "total",
        {"": {"sessions": 1000, "engaged_sessions": 600, "conversions": 20}},
    )
    await add_web(
        db,
        ga,
        D(2024, 3, 10),
        "social_network",
        {"Facebook": {"sessions": 80}, "Instagram": {"sessions": 20}},
    )
    await add_web(
        db,
        ga,
        D(2024, 3, 10),
        "social_landing_page",
        {"/ete": {"sessions": 70}, "/": {"sessions": 30}},
    )
    await add_web(db, ga, D(2024, 2, 10), "total", {"": {"sessions": 500}})
    await add_web(db, ga, D(2024, 2, 10), "social_network", {"facebook": {"sessions": 25}})
    await db.commit()
    return fb.id, ga.id


async def test_audit_hand_computed(db, make_backend):
    cid = new_client_id()
    fb_id, ga_id = await seed_client(db, cid)
    async with make_backend("ingest") as (_app, c):
        r = await c.get(f"/v1/clients/{cid}/audit", params=MARCH, headers=auth([cid]))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert (rep["previous_start"], rep["previous_end"]) == ("2024-01-30", "2024-02-29")
    accounts = {a["account"]["network"]: a for a in rep["accounts"]}
    assert set(accounts) == {"facebook", "linkedin"}
    fb = accounts["facebook"]
    cur, prev = fb["current"], fb["previous"]
    assert cur["posts"] == 6 and prev["posts"] == 3
    assert cur["follower_growth"] == 100 and cur["follower_growth_pct"] == pytest.approx(0.1)
    assert prev["follower_growth"] == 50
    assert cur["engagement_rate_by_follower"]["value"] == pytest.approx(0.07)
    assert prev["engagement_rate_by_follower"]["value"] == pytest.approx(20 / 900)
    assert cur["posts_per_week"] == pytest.approx(6 / (31 / 7))
    types = {g["key"]: g for g in fb["by_content_type"]}
    assert types["video"]["engagement_rate_by_follower"] == pytest.approx(0.1)
    assert types["photo"]["engagement_rate_by_follower"] == pytest.approx(0.04)
    assert types["video"]["mean_engagements"] == 100
    assert {g["key"] for g in fb["by_format"]} == {"Reel", "Photo"}
    reg = fb["regularity"]
    assert reg["weekly_posts"] == [2, 4, 0, 0, 0] and reg["week_starts"][0] == "2024-02-26"
    assert reg["longest_gap_days"] == 24
    assert (reg["longest_gap_start"], reg["longest_gap_end"]) == ("2024-03-08", "2024-03-31")
    assert [p["engagement_rate_by_follower"] for p in fb["top_posts"]][:3] == [0.1, 0.1, 0.1]
    assert len(fb["top_posts"]) == 5 and len(fb["bottom_posts"]) == 1
    assert fb["top_posts"][0]["published_local"].startswith("2024-03-02T10:00")
    assert [p["value"] for p in fb["followers_series"]] == [1000, 1100]
    # The account without data has no figure, and no finding is made up for it.
    li = accounts["linkedin"]["current"]
    assert li["posts_per_week"] is None and li["followers_end"] is None
    assert sum(map(sum, rep["posting_heatmap"])) == 6
    assert rep["posting_heatmap"][5][10] == 1  # Saturday 2 March, 10:00 local
    assert all(v is None for row in rep["heatmap_rate"] for v in row)  # < 3 posts per slot
    net = {n["network"]: n for n in rep["networks"]}["facebook"]
    assert net["engagement_rate_by_follower"]["current"] == pytest.approx(0.07)
    assert net["posts"]["delta"] == 3

    site = rep["website"][0]
    assert site["account_id"] == ga_id
    assert site["sessions"]["current"] == 1000 and site["sessions"]["previous"] == 500
    assert site["engaged_sessions"]["current"] == 600
    assert site["engaged_sessions"]["previous"] is None  # no data, not zero
    assert site["conversions"]["delta"] is None
    assert site["social_share"]["current"] == pytest.approx(0.1)
    assert site["social_share"]["previous"] == pytest.approx(0.05)
    src = {s["network"]: s for s in site["by_network"]}
    assert src["facebook"]["share_of_social"] == pytest.approx(0.8)
    assert src["facebook"]["share_of_total"] == pytest.approx(0.08)
    assert site["landing_pages_scope"] == "social"
    assert [p["page"] for p in site["landing_pages"]] == ["/ete", "/"]

    codes = [f["code"] for f in rep["findings"]]
    assert sorted(codes) == sorted(
        [
            "content_type_gap",
            "format_gap",
            "engagement_rate_change",
            "follower_growth",
            "posting_gap",
            "social_share",
            "social_share_change",
            "social_landing_page",
        ]
    )
    imp = [f["importance"] for f in rep["findings"]]
    assert imp == sorted(imp, reverse=True)
    gap = next(f for f in rep["findings"] if f["code"] == "content_type_gap")
    assert gap["text"] == (
        "video posts on Facebook get 2.5× the engagement rate by follower of photo posts "
        "(10.0 % vs 4.0 %; 3 vs 3 posts)"
    )
    assert gap["params"]["ratio"] == {"value": pytest.approx(2.5), "kind": "ratio"}
    assert gap["sample"] == {"video": 3, "photo": 3} and gap["evidence"]
    pg = next(f for f in rep["findings"] if f["code"] == "posting_gap")
    assert pg["params"]["days"]["value"] == 24
    share = next(f for f in rep["findings"] if f["code"] == "social_share")
    assert share["text"].startswith("Social networks bring 10.0 % of the website's sessions")
    assert "Facebook brings 80.0 % of them" in share["text"]


async def test_min_sample_suppresses_findings(db, make_backend):
    cid = new_client_id()
    await seed_client(db, cid)
    async with make_backend("ingest") as (_app, c):
        r = await c.get(
            f"/v1/clients/{cid}/audit", params={**MARCH, "min_sample": 4}, headers=auth([cid])
        )
    codes = {f["code"] for f in r.json()["findings"]}
    assert not codes & {"content_type_gap", "format_gap", "engagement_rate_change"}
    assert "posting_gap" in codes  # not a sample comparison


async def test_audit_tenancy_and_bad_periods(db, make_backend):
    cid = new_client_id()
    async with make_backend("ingest") as (_app, c):
        r = await c.get(f"/v1/clients/{cid}/audit", headers=auth([cid + 1]))
        assert r.status_code == 404
        r = await c.get(
            f"/v1/clients/{cid}/audit",
            params={"start": "2024-03-31", "end": "2024-03-01"},
            headers=auth([cid]),
        )
        assert r.status_code == 422
        r = await c.get(f"/v1/clients/{cid}/audit", headers=auth([cid]))
        assert r.status_code == 200
        body = r.json()
        assert body["accounts"] == [] and body["findings"] == [] and body["website"] == []
        assert (
            dt.date.fromisoformat(body["end"]) - dt.date.fromisoformat(body["start"])
        ).days == 89


def test_periods():
    s, e, ps, pe = audit_service.periods(None, None, "previous", today=D(2024, 6, 1))
    assert (s, e) == (D(2024, 3, 3), D(2024, 5, 31))
    assert (ps, pe) == (D(2023, 12, 4), D(2024, 3, 2))
    s, e, ps, pe = audit_service.periods(D(2024, 2, 1), D(2024, 2, 29), "year")
    assert (ps, pe) == (D(2023, 2, 1), D(2023, 2, 28))
