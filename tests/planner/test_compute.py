"""Correctness of the planner's arithmetic on hand-computed cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.planner.calendar.generate import PillarMixer, generate
from services.planner.compute import diff, networks, phases, targets, trajectory, workload
from shared.schemas.benchmark import IndustryFigure, KpiDistribution
from shared.schemas.ingest import Network
from shared.schemas.planner import (
    Animator,
    Audience,
    BaselineValue,
    KpiStatus,
    Objective,
    ObjectiveKind,
    Phase,
    Pillar,
    PlanDocument,
    Space,
)


def dist(kpi="engagement_rate_by_follower", net=Network.instagram, **kw) -> KpiDistribution:
    values = dict(
        network=net,
        kpi=kpi,
        definition="d",
        client_value=None,
        peer_values={},
        p25=0.010,
        p50=0.015,
        p75=0.020,
        client_percentile=30.0,
        peers_with_data=8,
    )
    values.update(kw)
    return KpiDistribution(**values)


# ----------------------------------------------------------------------------- targets


def test_target_is_next_quartile_above_baseline():
    s = targets.suggest("o1", "engagement_rate_by_follower", 0.012, dist(), horizon_days=365)
    assert s.method == "next_quartile"
    assert s.value == pytest.approx(0.015)  # P50 is the first quartile above 1.2 %
    assert s.numbers["p50"] == 0.015 and s.numbers["baseline"] == 0.012
    assert "P50" in s.rationale


def test_target_below_p25_goes_to_p25_and_short_horizon_takes_a_fraction():
    s = targets.suggest("o1", "engagement_rate_by_follower", 0.004, dist(), horizon_days=90)
    # 90 of the 180 days a quartile step takes: half-way from 0.4 % to P25 = 1.0 %.
    assert s.value == pytest.approx(0.004 + (0.010 - 0.004) * 0.5)
    assert "50%" in s.rationale


def test_target_above_p75_holds_the_lead_with_five_percent():
    s = targets.suggest("o1", "engagement_rate_by_follower", 0.025, dist(), horizon_days=365)
    assert s.method == "hold_top_quartile"
    assert s.value == pytest.approx(0.02625)


def test_followers_grow_at_the_next_growth_quartile_compounded():
    d = dist(kpi="follower_growth_pct", p25=0.01, p50=0.02, p75=0.03, client_value=0.015)
    s = targets.suggest(
        "o1", "followers", 1000, d, horizon_days=360, benchmark_days=90, benchmark_id=4
    )
    # Client grows 1.5 % per 90 days; next quartile is P50 = 2 %; 360 days = 4 periods.
    assert s.value == pytest.approx(1083.0)  # ceil(1000 × 1.02**4 = 1082.43)
    assert s.numbers["growth_over_horizon"] == pytest.approx(1.02**4 - 1)


def test_missing_baseline_is_no_baseline_not_zero():
    s = targets.suggest("o1", "followers", None, dist(kpi="follower_growth_pct"), horizon_days=365)
    assert s.value is None and s.method == "none"
    assert "No baseline" in s.rationale
    s = targets.suggest("o1", "engagement_rate_by_follower", None, dist(), horizon_days=365)
    assert s.method == "peer_median" and s.value == pytest.approx(0.015)
    assert "No baseline" in s.rationale


def test_industry_reference_when_no_peers():
    fig = IndustryFigure(
        value=0.0047, unit="ratio", source="Rival IQ", year=2023, method="median ER by follower"
    )
    d = dist(
        p25=None, p50=None, p75=None, client_percentile=None, peers_with_data=0, industry=[fig]
    )
    s = targets.suggest("o1", "engagement_rate_by_follower", 0.003, d, horizon_days=365)
    assert s.method == "industry_reference" and s.value == pytest.approx(0.0047)
    assert any("Rival IQ" in src for src in s.sources)
    s = targets.suggest("o1", "engagement_rate_by_follower", 0.006, d, horizon_days=365)
    assert s.value == pytest.approx(0.0063)


def test_no_reference_at_all_says_so():
    s = targets.suggest("o1", "conversions", 120, None, horizon_days=365)
    assert s.value is None and s.method == "none"


@given(
    baseline=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    qs=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=3, max_size=3),
    horizon=st.integers(min_value=1, max_value=1000),
    kpi=st.sampled_from(["engagement_rate_by_follower", "reach", "posts_per_week", "followers"]),
)
def test_suggested_target_never_below_baseline(baseline, qs, horizon, kpi):
    p25, p50, p75 = sorted(qs)
    d = dist(kpi=kpi, p25=p25, p50=p50, p75=p75, client_value=p25 / 2)
    s = targets.suggest("o", kpi, baseline, d, horizon_days=horizon, benchmark_days=90)
    assert s.value is None or s.value >= baseline


# ---------------------------------------------------------------------------- workload


def plan_doc(**kw) -> PlanDocument:
    doc = PlanDocument(
        animators=[
            Animator(id="a1", name="Léa", hours_per_week=5),
            Animator(id="a2", name="Max", hours_per_week=2),
        ],
        spaces=[
            # 4 × 45 + 90 = 270 min = 4.5 h
            Space(
                id="s1",
                network=Network.facebook,
                animator_id="a1",
                posts_per_week=4,
                minutes_per_post=45,
                community_minutes_per_week=90,
            ),
            # 3 × 60 + 60 = 240 min = 4 h
            Space(
                id="s2",
                network=Network.instagram,
                animator_id="a2",
                posts_per_week=3,
                minutes_per_post=60,
                community_minutes_per_week=60,
            ),
            # 2 × 30 + 0 = 1 h, nobody
            Space(
                id="s3",
                network=Network.linkedin,
                posts_per_week=2,
                minutes_per_post=30,
                community_minutes_per_week=0,
            ),
        ],
    )
    return doc.model_copy(update=kw)


def test_workload_hours_by_hand():
    load = workload.workload(plan_doc())
    assert load.spaces == {"s1": 4.5, "s2": 4.0, "s3": 1.0}
    assert load.animators == {"a1": 4.5, "a2": 4.0}
    assert load.planned_hours == 9.5 and load.team_hours == 7 and load.unassigned_hours == 1.0
    codes = Counter(w.code for w in workload.warnings(plan_doc()))
    assert codes["no_animator"] == 1  # LinkedIn has nobody
    assert codes["over_capacity"] == 1  # 9.5 h > 7 h
    assert codes["animator_over_capacity"] == 1  # Max: 4 h for 2 h


def test_no_warning_when_everything_fits():
    doc = plan_doc(
        spaces=[
            Space(
                id="s1",
                network=Network.facebook,
                animator_id="a1",
                posts_per_week=2,
                minutes_per_post=60,
                community_minutes_per_week=60,
            )
        ]
    )
    assert [w.code for w in workload.warnings(doc)] == []


def test_target_below_baseline_is_warned():
    doc = PlanDocument(
        audiences=[Audience(id="au", name="A")],
        objectives=[
            Objective(
                id="o",
                audience_id="au",
                kind=ObjectiveKind.engagement,
                kpi="reach",
                baseline=BaselineValue(
                    value=100,
                    unit="count",
                    window_start=dt.date(2025, 1, 1),
                    window_end=dt.date(2025, 3, 31),
                    definition="d",
                ),
                target=90,
            )
        ],
    )
    assert "target_below_baseline" in {w.code for w in workload.warnings(doc)}


# -------------------------------------------------------------------------- trajectory


START, DEADLINE = dt.date(2025, 1, 1), dt.date(2025, 12, 31)  # 364 days apart


def test_expected_value_is_linear():
    mid = START + dt.timedelta(days=182)
    assert trajectory.expected_at(100, 200, START, DEADLINE, mid) == pytest.approx(150)
    assert trajectory.expected_at(100, 200, START, DEADLINE, START) == 100
    assert trajectory.expected_at(100, 200, START, DEADLINE, DEADLINE + dt.timedelta(1)) == 200


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (160, KpiStatus.on_track),  # ahead
        (145, KpiStatus.on_track),  # 5 % of the change behind
        (135, KpiStatus.at_risk),  # 15 % behind
        (120, KpiStatus.off_track),  # 30 % behind
    ],
)
def test_status_against_the_trajectory(actual, status):
    mid = START + dt.timedelta(days=182)
    got, expected, progress, _ = trajectory.judge(100, 200, START, DEADLINE, mid, actual)
    assert got == status and expected == pytest.approx(150)
    assert progress == pytest.approx((actual - 100) / 100)


def test_no_measure_is_no_data():
    mid = START + dt.timedelta(days=182)
    assert trajectory.judge(100, 200, START, DEADLINE, mid, None)[0] == KpiStatus.no_data
    assert trajectory.judge(None, 200, START, DEADLINE, mid, 150)[0] == KpiStatus.no_data
    assert trajectory.judge(100, None, START, DEADLINE, mid, 150)[0] == KpiStatus.no_target


# ------------------------------------------------------------------- networks & phases


def test_audience_use_reads_one_dataset_and_averages_bands():
    aud = Audience(id="a", name="Young Quebecers", age_bands=["18-24", "25-34"], region="QC")
    ds = networks.dataset_for(aud)
    assert ds.id == "netendances_2024"
    use, how = networks.audience_use(aud, Network.instagram, ds)
    assert use == pytest.approx(0.69) and "18-34" in how
    # Linkedin is not in NETendances 2024: not borrowed from another survey.
    use, how = networks.audience_use(aud, Network.linkedin, ds)
    assert use is None
    us = Audience(id="b", name="US adults 25-44", age_bands=["25-34", "35-44"], region="US")
    ds = networks.dataset_for(us)
    use, how = networks.audience_use(us, Network.instagram, ds)
    assert use == pytest.approx((80 + 62) / 2 / 100)  # 18-29 and 30-49 overlap 25-44
    assert "unweighted mean" in how


def test_recommendation_scores_by_hand():
    aud = Audience(id="a", name="US 50-64", age_bands=["55-64"], region="US")
    doc = PlanDocument(audiences=[aud], animators=[Animator(id="x", name="A", hours_per_week=10)])
    d = {
        ("facebook", "engagement_rate_by_follower"): dist(
            net=Network.facebook, client_percentile=50.0, peers_with_data=10
        ),
        ("instagram", "engagement_rate_by_follower"): dist(
            client_percentile=None, peers_with_data=5
        ),
    }
    recs = {
        r.network: r for r in networks.recommend(doc, aud, d, [Network.facebook, Network.instagram])
    }
    fb = recs[Network.facebook]
    # use 0.74 (Pew 50-64), own 0.5, peers 10/10, capacity 1 − (4×45+90)/60/10 = 0.55
    assert fb.score == pytest.approx(
        round((0.74 * 0.4 + 0.5 * 0.2 + 1 * 0.2 + 0.55 * 0.2) / 1.0, 4)
    )
    ig = recs[Network.instagram]
    # own performance missing: renormalised over 0.8 of weight
    expected = (0.40 * 0.4 + 0.5 * 0.2 + (1 - (4 * 60 + 90) / 60 / 10) * 0.2) / 0.8
    assert ig.score == pytest.approx(round(expected, 4))
    assert fb.recommended and ig.recommended
    assert "no data" in ig.explanation


def test_first_phase_is_best_return_per_hour_and_gate_halfway():
    doc = PlanDocument(
        audiences=[
            Audience(
                id="a", name="A", networks=[Network.facebook, Network.instagram, Network.youtube]
            )
        ],
        animators=[Animator(id="x", name="A", hours_per_week=20)],
        objectives=[
            Objective(
                id="o1",
                audience_id="a",
                kind=ObjectiveKind.awareness,
                kpi="followers",
                network=Network.facebook,
                baseline=BaselineValue(
                    value=1000, unit="count", window_start=START, window_end=START, definition="d"
                ),
                target=1200,
            )
        ],
    )
    from shared.schemas.planner import NetworkRecommendation

    recs = [
        NetworkRecommendation(
            audience_id="a", network=n, score=s, recommended=True, components=[], explanation=""
        )
        for n, s in ((Network.facebook, 0.8), (Network.instagram, 0.6), (Network.youtube, 0.9))
    ]
    prop = phases.propose(doc, recs, START)
    # hours: fb 4.5, ig 5.5, yt 5 → returns 0.178, 0.109, 0.18 → youtube, facebook first
    assert prop.phases[0].networks == [Network.youtube, Network.facebook]
    assert prop.phases[1].networks == [Network.instagram]
    assert prop.phases[1].gate[0].threshold == 1100
    g = phases.gate_status(prop.phases[1], {"o1": 1050})
    assert g.open is False and g.conditions[0]["met"] is False
    assert phases.gate_status(prop.phases[1], {"o1": 1100}).open is True
    assert phases.gate_status(prop.phases[1], {}).conditions[0]["met"] is None


# ---------------------------------------------------------------------------- calendar


def test_pillar_mix_follows_shares():
    m = PillarMixer([("a", 0.5), ("b", 0.3), ("c", 0.2)])
    picks = Counter(m.next() for _ in range(100))
    assert picks == {"a": 50, "b": 30, "c": 20}


def test_calendar_cadence_slots_and_phases():
    doc = PlanDocument(
        timezone="America/Toronto",
        pillars=[
            Pillar(id="p1", name="Terroir", share=0.5),
            Pillar(id="p2", name="Events", share=0.5),
        ],
        spaces=[
            Space(
                id="s1",
                network=Network.facebook,
                animator_id="a",
                posts_per_week=2.5,
                formats=["photo", "video"],
            ),
            Space(id="s2", network=Network.tiktok, posts_per_week=3),
        ],
        phases=[
            Phase(id="p", name="Pilot", networks=[Network.facebook]),
            Phase(id="q", name="Later", networks=[Network.tiktok]),
        ],
    )
    start, end = dt.date(2025, 6, 2), dt.date(2025, 6, 29)  # four whole weeks, Mon..Sun
    items = generate(doc, start, end, {Network.facebook: [(1, 12), (3, 12), (1, 18)]})
    assert {i.network for i in items} == {Network.facebook}  # TikTok's gate is not open
    assert len(items) == 10  # 2.5 a week: 2, 3, 2, 3
    # 12:00 in Toronto in June is 16:00 UTC, on Tuesdays and Thursdays (then Tue 18:00).
    assert {(i.scheduled_at.weekday(), i.scheduled_at.hour) for i in items} <= {
        (1, 16),
        (3, 16),
        (1, 22),
    }
    assert Counter(i.pillar_id for i in items) == {"p1": 5, "p2": 5}
    assert Counter(i.format for i in items) == {"photo": 5, "video": 5}
    assert all(i.animator_id == "a" for i in items)


def test_diff_matches_items_by_id():
    a = {"objectives": [{"id": "o1", "target": 10}, {"id": "o2", "target": 5}], "x": 1}
    b = {"objectives": [{"id": "o2", "target": 6}, {"id": "o3", "target": 1}], "x": 1}
    changes = {c.path: (c.before, c.after) for c in diff.compare(a, b)}
    assert changes["objectives[o2].target"] == (5, 6)
    assert changes["objectives[o1]"][1] is None
    assert changes["objectives[o3]"][0] is None
    assert "x" not in changes
