"""The peer benchmark's KPIs, quartiles, ranks, content mix and posting times by hand."""

from __future__ import annotations

import pytest

from services.benchmark.peers import compute
from services.benchmark.peers.compute import Owner
from shared.schemas.ingest import Network
from tests.benchmark.factories import account_stats


def _owners():
    client = Owner(
        "client",
        [
            account_stats(
                1,
                "instagram",
                followers_start=1000,
                followers_end=1200,
                er=0.02,
                posts_per_week=3.0,
                er_posts=100,
            )
        ],
    )
    peers = [
        Owner(
            "A",
            [
                account_stats(
                    2,
                    "instagram",
                    followers_start=500,
                    followers_end=550,
                    er=0.01,
                    posts_per_week=1.0,
                )
            ],
        ),
        Owner(
            "B",
            [
                account_stats(
                    3,
                    "instagram",
                    followers_start=4000,
                    followers_end=4000,
                    er=0.03,
                    posts_per_week=5.0,
                )
            ],
        ),
        # C has two Instagram accounts: summed followers, posts-weighted rate
        Owner(
            "C",
            [
                account_stats(
                    4,
                    "instagram",
                    followers_start=100,
                    followers_end=200,
                    er=0.04,
                    posts_per_week=2.0,
                    er_posts=30,
                ),
                account_stats(
                    5,
                    "instagram",
                    followers_start=900,
                    followers_end=800,
                    er=0.00,
                    posts_per_week=1.0,
                    er_posts=10,
                ),
            ],
        ),
        Owner("D", [account_stats(6, "x", er=0.001)]),  # no Instagram: no data there
    ]
    return client, peers


def test_kpis_quartiles_and_ranks_by_hand():
    client, peers = _owners()
    kpis, notes = compute.kpi_table(client, peers)
    ig = {k.kpi: k for k in kpis if k.network == Network.instagram}
    # followers: A 550, B 4000, C 200 + 800 = 1000; client 1200
    f = ig["followers"]
    assert f.peer_values == {"A": 550, "B": 4000, "C": 1000, "D": None}
    assert f.peers_with_data == 3
    # sorted 550, 1000, 4000: P25 at pos 0.5 = 775, P50 = 1000, P75 at 1.5 = 2500
    assert (f.p25, f.p50, f.p75) == (775, 1000, 2500)
    # client 1200 among 550, 1000, 1200, 4000: 2 below, itself equal → (2 + .5)/4
    assert f.client_percentile == 62.5
    # growth: client (1200-1000)/1000 = .2; C (1000-1000)/1000 = 0 (summed accounts)
    g = ig["follower_growth_pct"]
    assert g.client_value == pytest.approx(0.2) and g.peer_values["C"] == 0.0
    assert g.peer_values["A"] == pytest.approx(0.1)
    # rate: C = (0.04·30 + 0.00·10)/40 = 0.03
    er = ig["engagement_rate_by_follower"]
    assert er.peer_values["C"] == pytest.approx(0.03)
    assert er.industry and all(x.denominator == "followers" for x in er.industry)
    assert "on the day of posting" in er.definition and "ingest: median over posts" in er.definition
    # posts per week: C = 2 + 1
    assert ig["posts_per_week"].peer_values["C"] == 3.0
    # no views KPI on Instagram (not its fair denominator)
    assert "engagement_rate_by_view" not in ig
    # X: only one peer has data: no quartiles, no rank, and a note says why
    x = {k.kpi: k for k in kpis if k.network == Network.x}
    assert x["followers"].p50 is None and x["followers"].client_percentile is None
    assert any(n.startswith("x · followers: 1 peer(s)") for n in notes)
    assert x["followers"].client_value is None


def test_views_kpi_on_youtube_and_missing_is_not_zero():
    client = Owner(
        "client", [account_stats(1, "youtube", er_view=0.05, er=None, followers_start=None)]
    )
    peers = [
        Owner(n, [account_stats(i, "youtube", er_view=v)])
        for i, (n, v) in enumerate([("A", 0.01), ("B", 0.02), ("C", 0.03)], start=2)
    ]
    kpis, _ = compute.kpi_table(client, peers)
    by = {k.kpi: k for k in kpis}
    assert by["engagement_rate_by_view"].client_percentile == 87.5
    assert by["engagement_rate_by_view"].p50 == 0.02
    assert by["engagement_rate_by_follower"].client_value is None
    assert by["follower_growth_pct"].client_value is None  # no start: no growth


def test_content_mix_by_hand():
    client = Owner(
        "client", [account_stats(1, content_types=[("video", 10, 0.02), ("photo", 30, 0.01)])]
    )
    peers = [
        Owner("A", [account_stats(2, content_types=[("video", 5, 0.03), ("photo", 5, 0.01)])]),
        Owner("B", [account_stats(3, content_types=[("photo", 20, 0.02)])]),
    ]
    mix = compute.content_mix(client, peers)[0]
    video = next(t for t in mix.types if t.content_type == "video")
    assert video.client_share == 0.25 and video.client_engagement_rate == 0.02
    # A: 50 % video, B: 0 % → median 25 %; only A used it
    assert video.peer_share_median == 0.25 and video.peers_using == 1
    assert video.peer_engagement_rate_median == 0.03


def test_posting_times_sum_peers_and_name_top_slots():
    grid = [[0] * 24 for _ in range(7)]
    grid[1][12] = 4  # Tuesday noon
    grid[4][18] = 2
    peers = [
        Owner("A", [account_stats(2, heatmap=grid)]),
        Owner("B", [account_stats(3, heatmap=grid)]),
    ]
    pt = compute.posting_times(Owner("client", []), peers)[0]
    assert pt.peers[1][12] == 8 and pt.peers_top_slots[:2] == ["Tue 12:00", "Fri 18:00"]
