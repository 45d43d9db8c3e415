"""The calendar's time slots come from measured engagement: the client's, then its peers'.

Hand-computed data. Accounts in Toronto; posts in January and February 2026 (EST, UTC−5),
inside the 90 days before a plan starting on 1 April 2026; followers 1,000 (client) and
2,000 (peers) every day, so a post's rate is its engagements / followers.

Instagram, the client: Thursday 12:00, three posts of 80 (8 %); Tuesday 18:00, posts of
50, 60, 70 (mean 6 %); Saturday 10:00, two posts of 200 (20 %, but two posts are below the
three-post threshold: the client lacks data there). Its peer: Monday 09:00, three posts of
100 on 2,000 (5 %); Saturday 10:00, three of 20 (1 %).
→ Thu 12, Tue 18 (the client's), then Mon 9, Sat 10 (the peer's): ``client+peers``.

Facebook, the client has no account; its peer: Wednesday 20:00, three posts of 90 (4.5 %),
Friday 07:00, three of 20 (1 %) → Wed 20, Fri 7: ``peers``.
LinkedIn: nothing measured → the default slots, first Tuesday 12:00: ``default``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.planner.compute import slots
from shared.db import create_sessionmaker
from shared.schemas.ingest import AccountStats, Network
from tests.conftest import auth, new_client_id
from tests.ingest.factories import add_daily, add_post, create_account
from tests.planner.factories import add, create_plan

EST = dt.timezone(dt.timedelta(hours=-5))


def _stats(account_id: int, network: str, cells: dict[tuple[int, int], tuple[float, int]]):
    rates: list[list[float | None]] = [[None] * 24 for _ in range(7)]
    posts = [[0] * 24 for _ in range(7)]
    for (d, h), (r, n) in cells.items():
        rates[d][h], posts[d][h] = r, n
    zero = {"value": None, "numerator": "", "denominator": "", "method": "", "posts": 0}
    return AccountStats.model_validate(
        {
            "account_id": account_id,
            "network": network,
            "start": "2026-01-01",
            "end": "2026-03-31",
            "followers_start": None,
            "followers_end": None,
            "follower_growth": None,
            "follower_growth_pct": None,
            "posts": sum(n for _, n in cells.values()),
            "posts_per_week": None,
            "engagements": None,
            "reach": None,
            "impressions": None,
            "views": None,
            "engagement_rate_by_follower": zero,
            "engagement_rate_by_reach": zero,
            "engagement_rate_by_impression": zero,
            "engagement_rate_by_view": zero,
            "engagement_heatmap": rates,
            "engagement_heatmap_posts": posts,
        }
    )


def test_client_slots_first_then_peers_pooled_by_posts():
    client_a = _stats(1, "instagram", {(3, 12): (0.08, 3), (1, 18): (0.06, 3), (5, 10): (0.2, 2)})
    # A second client account on the same network: pooled with the first by posts.
    # Tue 18: (0.06 × 3 + 0.10 × 1) / 4 = 0.07 < Thu 12's 0.08; Sun 20 alone: 1 post.
    client_b = _stats(2, "instagram", {(1, 18): (0.10, 1), (6, 20): (0.5, 1)})
    peer = _stats(3, "instagram", {(0, 9): (0.05, 3), (5, 10): (0.01, 3), (3, 12): (0.9, 3)})
    peer_fb = _stats(4, "facebook", {(2, 20): (0.045, 3), (4, 7): (0.01, 3), (0, 8): (0.3, 2)})
    got = slots.best([client_a, client_b, peer, peer_fb], {1, 2})
    # Thu 12 is the client's (8 %), not the peer's 90 %: the client's own data comes first.
    assert got.slots[Network.instagram] == [(3, 12), (1, 18), (0, 9), (5, 10)]
    assert got.sources[Network.instagram] == slots.CLIENT_AND_PEERS
    assert got.slots[Network.facebook] == [(2, 20), (4, 7)]
    assert got.sources[Network.facebook] == slots.PEERS
    assert got.for_network(Network.linkedin) == (slots.DEFAULT_SLOTS, slots.DEFAULT)
    # Only the client: its own ranking; a limit keeps the best.
    only = slots.best([client_a], {1}, limit=1)
    assert only.slots == {Network.instagram: [(3, 12)]}
    assert only.sources == {Network.instagram: slots.CLIENT}
    # Nothing above the threshold anywhere: no ranking, the stated fallback.
    thin = slots.best([_stats(5, "x", {(0, 9): (0.5, 2)})], {5})
    assert thin.slots == {} and thin.for_network(Network.x)[1] == slots.DEFAULT


async def _seed(engine, cid: int) -> None:
    jan1 = dt.date(2026, 1, 1)
    days = [jan1 + dt.timedelta(days=i) for i in range(90)]

    async def posts(db, account, weekday: int, hour: int, engagements: list[int], tag: str):
        # The first weeks of 2026 with that weekday (5 January 2026 is a Monday).
        first = dt.date(2026, 1, 5) + dt.timedelta(days=weekday)
        for i, e in enumerate(engagements):
            day = first + dt.timedelta(weeks=i)
            local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=EST)
            await add_post(
                db,
                account,
                local.astimezone(dt.UTC),
                metrics={"engagements": e},
                external_id=f"{tag}-{i}",
            )

    async with create_sessionmaker(engine)() as db:
        ig = await create_account(db, cid, "instagram", external_id=f"ig-{cid}")
        peer_ig = await create_account(
            db, cid, "instagram", owner_kind="peer", external_id=f"pig-{cid}"
        )
        peer_fb = await create_account(
            db, cid, "facebook", owner_kind="peer", external_id=f"pfb-{cid}"
        )
        await add_daily(db, ig, "followers", dict.fromkeys(days, 1_000))
        for acc in (peer_ig, peer_fb):
            await add_daily(db, acc, "followers", dict.fromkeys(days, 2_000))
        await posts(db, ig, 3, 12, [80, 80, 80], f"ig-thu-{cid}")
        await posts(db, ig, 1, 18, [50, 60, 70], f"ig-tue-{cid}")
        await posts(db, ig, 5, 10, [200, 200], f"ig-sat-{cid}")
        await posts(db, peer_ig, 0, 9, [100, 100, 100], f"pig-mon-{cid}")
        await posts(db, peer_ig, 5, 10, [20, 20, 20], f"pig-sat-{cid}")
        await posts(db, peer_fb, 2, 20, [90, 90, 90], f"pfb-wed-{cid}")
        await posts(db, peer_fb, 4, 7, [20, 20, 20], f"pfb-fri-{cid}")
        await db.commit()


async def test_calendar_uses_measured_slots_with_a_stated_fallback(planner_stack, engine):
    cid = new_client_id()
    h = auth([cid])
    await _seed(engine, cid)
    async with planner_stack() as s:
        c = s.planner
        _plan, vid = await create_plan(c, cid, start=dt.date(2026, 4, 1), end=dt.date(2026, 6, 30))
        for net, per_week in (("instagram", 2), ("facebook", 2), ("linkedin", 1)):
            await add(c, cid, vid, "spaces", {"network": net, "posts_per_week": per_week})

        r = await c.get(f"/v1/versions/{vid}/suggestions", headers=h)
        assert r.status_code == 200, r.text
        sug = r.json()
        assert sug["best_slots"] == {
            "facebook": [[2, 20], [4, 7]],
            "instagram": [[3, 12], [1, 18], [0, 9], [5, 10]],
        }
        assert sug["best_slots_sources"] == {"facebook": "peers", "instagram": "client+peers"}

        # The week of Monday 6 April 2026 (EDT, UTC−4).
        r = await c.post(
            f"/v1/versions/{vid}/calendar/generate",
            json={"start": "2026-04-06", "end": "2026-04-12"},
            headers=h,
        )
        assert r.status_code == 200, r.text
        summary = r.json()
        assert summary["slot_sources"] == {
            "instagram": "client+peers",
            "facebook": "peers",
            "linkedin": "default",
        }
        assert summary["per_network"] == {"instagram": 2, "facebook": 2, "linkedin": 1}
        r = await c.get(f"/v1/versions/{vid}/calendar", headers=h)
        edt = dt.timezone(dt.timedelta(hours=-4))
        got = sorted(
            (
                it["network"],
                dt.datetime.fromisoformat(it["scheduled_at"]).astimezone(edt).strftime("%a %H"),
            )
            for it in r.json()
        )
        assert got == [
            ("facebook", "Fri 07"),
            ("facebook", "Wed 20"),
            ("instagram", "Thu 12"),
            ("instagram", "Tue 18"),
            ("linkedin", "Tue 12"),
        ]


@pytest.mark.parametrize("posts", [0, 2])
def test_no_rated_post_means_no_ranking(posts):
    st = _stats(9, "youtube", {(1, 1): (0.5, posts)} if posts else {})
    assert slots.best([st], {9}).slots == {}
