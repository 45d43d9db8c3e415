"""The demo's relay directory: who is in it, and what the scores will have to find."""

from __future__ import annotations

import collections
import itertools
import unicodedata

from services.demo.generate import Demo
from services.demo.reference import load_reference
from tests.demo.helpers import er_by_follower, followers, median


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c)).lower()


def test_directory_mix(demo: Demo):
    relays = demo.relays
    assert {r.kind for r in relays} == {"person", "organisation"}
    assert {r.category for r in relays} == {"media", "association", "institution", "creator"}
    assert {r.tier for r in relays} == {"nano", "micro", "mid", "macro"}
    assert {r.language for r in relays} == {"fr", "en"}
    assert sum(r.language == "fr" for r in relays) > 40
    assert len({r.region for r in relays}) >= 8
    assert len({t for r in relays for t in r.topics}) >= 10
    assert all(r.bio for r in relays)
    statuses = collections.Counter(r.status for r in relays)
    assert set(statuses) == {
        "to_contact",
        "contacted",
        "relayed",
        "partner",
        "co_creator",
        "declined",
    }
    assert all(r.relays for r in relays if r.status in ("relayed", "partner", "co_creator"))
    networks = {a.network for r in relays for a in r.accounts}
    assert {"instagram", "facebook", "x", "youtube", "tiktok", "pinterest"} <= networks


def test_tiers_follow_the_data_file_boundaries(demo: Demo):
    ref = load_reference()
    for relay in demo.relays:
        main = relay.accounts[0]
        first = followers(main)[relay.added_on]
        assert ref.tier_of(first) == relay.tier, relay.key


def test_instagram_engagement_by_tier_is_near_hypeauditor(demo: Demo):
    ref = load_reference()
    by_tier = collections.defaultdict(list)
    for relay in demo.relays:
        if relay.signals or relay.kind != "person":
            continue
        for account in relay.accounts:
            if account.network == "instagram":
                tier = ref.tier_of(min(followers(account).values()))
                by_tier[tier].append(median(er_by_follower(account)))
    for tier in ("nano", "micro"):
        expected = ref.instagram_er_for_tier(tier)
        assert expected / 2 < median(by_tier[tier]) < expected * 2, tier


def test_a_few_carry_inauthentic_signals(demo: Demo):
    ref = load_reference()
    flagged = collections.defaultdict(list)
    for relay in demo.relays:
        for signal in relay.signals:
            flagged[signal].append(relay)
    assert {k: len(v) for k, v in flagged.items()} == {
        "follower_spike": 2,
        "mass_following": 2,
        "engagement_anomaly": 2,
    }
    threshold = ref.mass_follower_threshold()
    for relay in demo.relays:
        heavy = max(relay.following.values()) > threshold
        assert heavy == ("mass_following" in relay.signals), relay.key
    for relay in flagged["mass_following"]:
        shown = [d.value for d in relay.accounts[0].daily if d.metric == "following"]
        assert shown and min(shown) > threshold  # the public profile shows it
    for relay in flagged["follower_spike"]:
        series = [v for _d, v in sorted(followers(relay.accounts[0]).items())]
        jumps = [b / a - 1 for a, b in itertools.pairwise(series)]
        assert max(jumps) > 0.1  # a day's jump no organic growth gives
    for relay in demo.relays:
        if not relay.signals:
            series = [v for _d, v in sorted(followers(relay.accounts[0]).items())]
            assert max(b / a - 1 for a, b in itertools.pairwise(series)) < 0.05
    for relay in flagged["engagement_anomaly"]:
        main = relay.accounts[0]
        tier = ref.tier_of(min(followers(main).values()))
        assert tier is not None
        rate = median(er_by_follower(main))
        if main.network == "instagram":
            expected = ref.instagram_er_for_tier(tier)
            assert rate > 3 * expected or rate < expected / 3


def test_duplicates_look_alike(demo: Demo):
    by_key = {r.key: r for r in demo.relays}
    for dup in (r for r in demo.relays if r.duplicate_of):
        original = by_key[dup.duplicate_of]
        assert original.duplicate_of is None
        a, b = _fold(original.name), _fold(dup.name)
        assert a in b or b in a
        assert dup.region == original.region
        # another network than the original's: merging adds a space
        assert {x.network for x in dup.accounts}.isdisjoint(x.network for x in original.accounts)


def test_shortlist(demo: Demo):
    keys = {r.key: r for r in demo.relays}
    assert 5 <= len(demo.shortlist) <= 12
    assert all(k in keys and not keys[k].signals for k in demo.shortlist)
    assert {keys[k].status for k in demo.shortlist} >= {"co_creator", "partner", "to_contact"}
