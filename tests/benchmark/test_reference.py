"""The shipped reference data: tiers as data, figures with source and denominator."""

from __future__ import annotations

from services.benchmark import reference


def test_tier_schemes_differ_and_are_data():
    hype = reference.tier_scheme("hypeauditor")
    later = reference.tier_scheme("later_fohr")
    assert hype.tier_of(50_000) == "mid"  # HypeAuditor: mid 50K-500K
    assert later.tier_of(50_000) == "micro"  # Later x Fohr: micro 10K-100K
    assert hype.tier_of(999) is None  # below HypeAuditor's nano
    assert later.tier_of(999) == "nano"
    assert hype.tier_of(1_000_000) == "mega" and later.tier_of(999_999) == "macro"
    assert hype.tier_of(None) is None
    assert "HypeAuditor" in hype.describe()


def test_industry_figures_match_the_kpi_denominator():
    figs = reference.industry_figures("engagement_rate_by_follower", "instagram")
    assert figs and all(f.denominator == "followers" for f in figs)
    rival_2023 = [f for f in figs if "Rival IQ" in f.source and f.year == 2023]
    assert rival_2023[0].value == 0.0047 and "median" in rival_2023[0].method
    assert figs == sorted(figs, key=lambda f: -f.year)
    # Buffer's figures are per impression: never beside a per-follower KPI.
    assert not any("Buffer" in f.source for f in figs)
    by_impr = reference.industry_figures("engagement_rate_by_impression", "linkedin")
    assert by_impr[0].value == 0.065 and by_impr[0].denominator == "impressions"
    assert reference.industry_figures("followers", "instagram") == []


def test_tier_engagement_benchmark_and_screening():
    nano = reference.tier_engagement_benchmark("hypeauditor", "nano", "instagram")
    assert nano is not None and nano.value == 0.0178 and nano.year == 2026
    assert reference.tier_engagement_benchmark("later_fohr", "nano", "instagram") is None
    value, source = reference.screening("mass_follower_following")
    assert value == 1500 and "HypeAuditor" in source
