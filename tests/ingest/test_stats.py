"""Period stats of accounts, checked against figures computed by hand."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, add_post, at, create_account, create_source

D = dt.date
MARCH = {"start": "2024-03-01", "end": "2024-03-31"}


async def _march_account(db, cid):
    """One Facebook page in Toronto over March 2024 (DST starts on 10 March).

    Followers 1000 (1 Mar), 1100 (15 Mar), 1200 (31 Mar); daily reach 300 + 200.
    P1 5 Mar 14:30 UTC = Tue 09:30 EST, photo, 50 engagements, reach 1000, 2000 impressions,
       followers that day 1000 → ER 5 % by follower, 5 % by reach, 2.5 % by impression.
    P2 20 Mar 01:30 UTC = Tue 19 Mar 21:30 EDT, video, 110 engagements, reach 500,
       followers 1100 → 10 % by follower, 22 % by reach.
    P3 1 Apr 03:00 UTC = Sun 31 Mar 23:00 EDT, video, no metrics (inside the period).
    P4 1 Mar 04:30 UTC = Thu 29 Feb 23:30 EST: outside the period.
    """
    src = await create_source(db, cid)
    fb = await create_account(db, cid, "facebook", n=1)
    await add_daily(
        db, fb, "followers", {D(2024, 3, 1): 1000, D(2024, 3, 15): 1100, D(2024, 3, 31): 1200}, src
    )
    await add_daily(db, fb, "reach", {D(2024, 3, 2): 300, D(2024, 3, 3): 200}, src)
    await add_post(
        db,
        fb,
        at(2024, 3, 5, 14, 30),
        content_type="photo",
        metrics={"engagements": 50, "reach": 1000, "impressions": 2000},
        source=src,
    )
    await add_post(
        db,
        fb,
        at(2024, 3, 20, 1, 30),
        content_type="video",
        metrics={"engagements": 110, "reach": 500},
    )
    await add_post(db, fb, at(2024, 4, 1, 3, 0), content_type="video")
    await add_post(
        db, fb, at(2024, 3, 1, 4, 30), content_type="photo", metrics={"engagements": 999}
    )
    # Committed (to the test's savepoint) so a refused request's rollback keeps the data.
    await db.commit()
    return fb


async def test_stats_match_hand_computed_figures(db, make_backend):
    cid = new_client_id()
    fb = await _march_account(db, cid)
    empty = await create_account(db, cid, "instagram", n=2)
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/accounts",
            json={"account_ids": [fb.id, empty.id], **MARCH},
            headers=auth([cid]),
        )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [s["account_id"] for s in data] == [fb.id, empty.id]
    s = data[0]
    assert s["followers_start"] == 1000 and s["followers_end"] == 1200
    assert s["followers_start_day"] == "2024-03-01" and s["followers_end_day"] == "2024-03-31"
    assert s["follower_growth"] == 200 and s["follower_growth_pct"] == pytest.approx(0.2)
    assert s["posts"] == 3
    assert s["posts_per_week"] == pytest.approx(3 / (31 / 7))
    assert s["engagements"] == 160
    assert s["reach"] == 500
    assert s["impressions"] is None and s["views"] is None
    erf = s["engagement_rate_by_follower"]
    assert erf["value"] == pytest.approx(0.075) and erf["posts"] == 2
    assert erf["denominator"] == "followers" and "day of posting" in erf["method"]
    assert s["engagement_rate_by_reach"]["value"] == pytest.approx(0.135)
    assert s["engagement_rate_by_impression"]["value"] == pytest.approx(0.025)
    assert s["engagement_rate_by_impression"]["posts"] == 1
    assert s["engagement_rate_by_view"] == {
        "value": None,
        "numerator": "engagements per post",
        "denominator": "views",
        "method": s["engagement_rate_by_view"]["method"],
        "posts": 0,
    }
    heat = s["posting_heatmap"]
    assert len(heat) == 7 and all(len(row) == 24 for row in heat)
    assert heat[1][9] == 1 and heat[1][21] == 1 and heat[6][23] == 1
    assert sum(map(sum, heat)) == 3
    # Engagement by slot: P1 (Tue 9:00, 5 %) and P2 (Tue 21:00, 10 %) are rated; P3 has
    # no engagements, so its slot (Sun 23:00) has a post but no rate.
    rates, rated = s["engagement_heatmap"], s["engagement_heatmap_posts"]
    assert rates[1][9] == pytest.approx(0.05) and rates[1][21] == pytest.approx(0.1)
    assert rates[6][23] is None and rated[6][23] == 0
    assert rated[1][9] == 1 and rated[1][21] == 1 and sum(map(sum, rated)) == 2
    assert sum(v is not None for row in rates for v in row) == 2
    types = {t["content_type"]: t for t in s["content_types"]}
    assert types["video"]["posts"] == 2 and types["photo"]["posts"] == 1
    assert types["video"]["engagement_rate_by_follower"] == pytest.approx(0.1)
    assert types["video"]["median_engagements"] == 110
    assert types["photo"]["engagement_rate_by_reach"] == pytest.approx(0.05)
    assert s["sources"] == ["facebook_graph v23.0"]
    assert "posts_per_week" in s["definitions"]
    # An account without any data: no figure is a zero.
    e = data[1]
    assert e["posts"] == 0 and e["posts_per_week"] is None
    for key in ("followers_start", "followers_end", "follower_growth", "engagements", "reach"):
        assert e[key] is None
    assert e["engagement_rate_by_follower"]["value"] is None
    assert all(v is None for row in e["engagement_heatmap"] for v in row)


async def test_stats_ndjson_and_lean_sections(db, make_backend):
    cid = new_client_id()
    fb = await _march_account(db, cid)
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/accounts",
            json={"account_ids": [fb.id, fb.id], "sections": [], **MARCH},
            headers={**auth([cid]), "accept": "application/x-ndjson"},
        )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert len(lines) == 1  # duplicates removed
    assert lines[0]["posts"] == 3
    assert lines[0]["content_types"] == [] and lines[0]["posting_heatmap"] == []
    assert lines[0]["engagement_heatmap"] == [] and lines[0]["engagement_heatmap_posts"] == []
    assert lines[0]["sources"] == [] and lines[0]["definitions"] == {}


async def test_growth_needs_two_days_and_zero_start(db, make_backend):
    cid = new_client_id()
    one = await create_account(db, cid, "x", n=1)
    await add_daily(db, one, "followers", {D(2024, 3, 10): 500})
    zero = await create_account(db, cid, "x", n=2)
    await add_daily(db, zero, "followers", {D(2024, 3, 1): 0, D(2024, 3, 31): 40})
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/accounts",
            json={"account_ids": [one.id, zero.id], **MARCH},
            headers=auth([cid]),
        )
    a, b = r.json()["data"]
    assert a["followers_start"] == a["followers_end"] == 500
    assert a["follower_growth"] is None and a["follower_growth_pct"] is None
    assert a["posts"] == 0 and a["posts_per_week"] == 0  # data exists: zero posts is real
    assert b["follower_growth"] == 40 and b["follower_growth_pct"] is None


async def test_stats_tenancy(db, make_backend):
    mine, theirs = new_client_id(), new_client_id()
    a = await create_account(db, mine, "facebook", n=1)
    b = await create_account(db, theirs, "facebook", n=1)
    relay = await create_account(db, None, "instagram", n=7)
    await db.commit()
    # Plain ids: a refused request rolls the session back and expires the objects.
    a, b, relay = (type("A", (), {"id": x.id})() for x in (a, b, relay))
    async with make_backend("ingest") as (_app, c):
        r = await c.post(
            "/v1/stats/accounts", json={"account_ids": [a.id, b.id], **MARCH}, headers=auth([mine])
        )
        assert r.status_code == 404
        assert str(b.id) in r.json()["detail"]
        r = await c.post(
            "/v1/stats/accounts", json={"account_ids": [a.id, 10**9], **MARCH}, headers=auth([mine])
        )
        assert r.status_code == 404
        r = await c.post(
            "/v1/stats/accounts", json={"account_ids": [relay.id], **MARCH}, headers=auth([mine])
        )
        assert r.status_code == 200
        r = await c.post(
            "/v1/stats/accounts",
            json={"account_ids": [relay.id], **MARCH},
            headers=auth([mine], role="client_viewer", scope="read"),
        )
        assert r.status_code == 404
        r = await c.post(
            "/v1/stats/accounts",
            json={"account_ids": [a.id], "start": "2024-03-31", "end": "2024-03-01"},
            headers=auth([mine]),
        )
        assert r.status_code == 422


async def test_metrics_series_and_posts(db, make_backend):
    cid = new_client_id()
    fb = await _march_account(db, cid)
    async with make_backend("ingest") as (_app, c):
        r = await c.get(
            f"/v1/accounts/{fb.id}/metrics",
            params={"metric": ["followers", "views"], **MARCH},
            headers=auth([cid]),
        )
        assert r.status_code == 200, r.text
        series = {s["metric"]: s for s in r.json()}
        assert [p["value"] for p in series["followers"]["points"]] == [1000, 1100, 1200]
        assert series["followers"]["aggregation"] == "last"
        assert series["views"]["points"] == []  # no data: no points, no zeros
        r = await c.get(
            f"/v1/accounts/{fb.id}/metrics", params={"metric": "nonsense"}, headers=auth([cid])
        )
        assert r.status_code == 422
        r = await c.get(
            f"/v1/accounts/{fb.id}/posts", params={"limit": 2, **MARCH}, headers=auth([cid])
        )
        page = r.json()
        assert len(page["data"]) == 2 and page["next_cursor"]
        first = page["data"][0]
        assert first["content_type"] == "video" and first["metrics"] == {}
        second = page["data"][1]
        assert second["followers_at_post"] == 1100
        assert second["engagement_rate_by_follower"] == pytest.approx(0.1)
        r = await c.get(
            f"/v1/accounts/{fb.id}/posts",
            params={"limit": 2, "cursor": page["next_cursor"], **MARCH},
            headers=auth([cid]),
        )
        rest = r.json()
        assert [p["content_type"] for p in rest["data"]] == ["photo"]
        assert rest["data"][0]["source"] == "facebook_graph v23.0"
        assert rest["next_cursor"] is None
        r = await c.get(
            f"/v1/accounts/{fb.id}/posts", params={"content_type": "photo"}, headers=auth([cid])
        )
        assert len(r.json()["data"]) == 2  # the February photo too, without a period
        r = await c.get(f"/v1/accounts/{fb.id}/posts", headers=auth([new_client_id()]))
        assert r.status_code == 404
        r = await c.get(f"/v1/accounts/{fb.id}/metrics?metric=followers", headers=auth([999]))
        assert r.status_code == 404


async def test_baselines_none_not_zero(db, make_backend):
    cid = new_client_id()
    await _march_account(db, cid)
    await create_account(db, cid, "linkedin", n=3)
    await db.commit()
    async with make_backend("ingest") as (_app, c):
        r = await c.get(f"/v1/clients/{cid}/baselines", params=MARCH, headers=auth([cid]))
        assert r.status_code == 200, r.text
        rows = {(b["network"], b["metric"]): b for b in r.json()}
        assert rows[("facebook", "followers")]["value"] == 1200
        assert rows[("facebook", "engagement_rate_by_follower")]["value"] == pytest.approx(0.075)
        assert rows[("facebook", "posts_per_week")]["value"] == pytest.approx(3 / (31 / 7))
        assert rows[("linkedin", "followers")]["value"] is None
        assert rows[("linkedin", "engagement_rate_by_follower")]["value"] is None
        assert rows[(None, "follower_growth_pct")]["value"] == pytest.approx(0.2)
        assert rows[("facebook", "followers")]["sources"] == ["facebook_graph v23.0"]
        r = await c.get(f"/v1/clients/{cid}/baselines", headers=auth([cid + 1]))
        assert r.status_code == 404


async def test_fast_json_path_matches_the_model(db):
    """The streamed answer skips model validation: it must equal the validated model's JSON."""
    from services.ingest.stats import service as stats_service

    cid = new_client_id()
    fb = await _march_account(db, cid)
    empty = await create_account(db, cid, "instagram", n=2)
    start, end = D(2024, 3, 1), D(2024, 3, 31)
    for sections in (None, []):
        models = [s async for s in stats_service.stats_for(db, [fb, empty], start, end, sections)]
        raw = [
            json.loads(b)
            async for b in stats_service.stats_json_for(db, [fb, empty], start, end, sections)
        ]
        assert raw == [m.model_dump(mode="json") for m in models]
