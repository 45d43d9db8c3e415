"""The demo generator: deterministic, complete, and within the published ranges."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
from importlib import resources

from services.demo.generate import Demo, generate
from services.demo.reference import load_reference
from shared.metrics_catalogue import CATALOGUE
from tests.demo.helpers import (
    er_by_exposure,
    er_by_follower,
    followers,
    latest_snapshots,
    local_day,
    median,
)

CLIENT_NETWORKS = {"facebook", "instagram", "x", "linkedin", "youtube", "pinterest"}


def test_two_generations_are_identical(demo: Demo):
    again = generate()
    assert again.digest() == demo.digest()
    assert generate(seed=demo.seed + 1).digest() != demo.digest()


def test_the_window_is_eighteen_months_of_days(demo: Demo):
    assert demo.end == dt.date(2026, 11, 22)
    assert demo.start == dt.date(2025, 5, 23)  # 18 months back, the day after
    n_days = (demo.end - demo.start).days + 1
    assert 547 <= n_days <= 550
    gap = {
        e.start + dt.timedelta(days=i)
        for e in demo.client.events
        if e.kind == "sync_gap"
        for i in range(e.days)
    }
    for account in demo.client.accounts:
        days = set(followers(account))
        expected = {demo.start + dt.timedelta(days=i) for i in range(n_days)}
        if account.network == "x":
            assert len(gap) == 3 and not days & gap  # missing, not zero
            expected -= gap
        assert days == expected, account.network
    web_days = {r.day for r in demo.client.website.web}
    assert len(web_days) == n_days


def test_counts(demo: Demo):
    assert {a.network for a in demo.client.accounts} == CLIENT_NETWORKS
    assert len(demo.peers) == 6
    assert len(demo.relays) == 60
    duplicates = [r for r in demo.relays if r.duplicate_of]
    keys = {r.key for r in demo.relays}
    assert len(duplicates) == 3
    assert all(d.duplicate_of in keys and d.duplicate_of != d.key for d in duplicates)
    assert len({r.key for r in demo.relays}) == 60
    assert all(len(p.accounts) >= 3 for p in demo.peers)
    assert sum(len(r.accounts) >= 2 for r in demo.relays) >= 40


def test_records_use_the_catalogue_and_are_never_empty(demo: Demo):
    for account in demo.all_accounts():
        for d in account.daily:
            assert d.metric in CATALOGUE
        for p in account.posts:
            assert p.metrics and set(p.metrics) <= set(CATALOGUE)
            assert p.published_at is not None and p.published_at.tzinfo is not None
            assert p.snapshot_date >= local_day(p)
            assert p.source.provider.startswith("demo_")
    for row in demo.client.website.web:
        assert row.metric in CATALOGUE


def test_no_zero_where_data_is_missing(demo: Demo):
    """Followers are never 0, and nothing is recorded before collection started."""
    for account in demo.all_accounts():
        assert all(d.value > 0 for d in account.daily if d.metric == "followers")
        assert min(d.day for d in account.daily) == account.collected_from
        assert min(p.snapshot_date for p in account.posts) >= account.collected_from
    for peer in demo.peers:
        assert all(a.collected_from == peer.added_on for a in peer.accounts)


def test_median_engagement_rate_by_follower_is_in_the_published_band(demo: Demo):
    ref = load_reference()
    for account in demo.client.accounts:
        if account.network in ("youtube", "pinterest"):
            continue
        band = ref.er_by_follower_band(account.network)
        assert band is not None
        assert median(er_by_follower(account)) in band, account.network
    for peer in demo.peers:  # what others can see: public counts only
        for account in peer.accounts:
            band = ref.er_by_follower_band(account.network)
            if band is not None:
                assert median(er_by_follower(account)) in band, (peer.key, account.network)


def test_video_and_pin_rates_are_per_view_and_impression_in_band(demo: Demo):
    ref = load_reference()
    for account in demo.client.accounts:
        if account.network in ("youtube", "pinterest"):
            exposure = "views" if account.network == "youtube" else "impressions"
            band = ref.er_by_exposure_band(account.network)
            assert band is not None
            assert median(er_by_exposure(account, exposure)) in band


def test_posts_per_week_are_plausible(demo: Demo):
    ref = load_reference()
    weeks = ((demo.end - demo.start).days + 1) / 7
    for account in demo.client.accounts:
        per_week = len(latest_snapshots(account)) / weeks
        assert per_week in ref.posts_per_week_band(account.network), account.network


def test_followers_only_fall_on_noted_events(demo: Demo):
    for account in demo.all_accounts():
        noted = [
            e
            for e in demo.client.events
            if e.network == account.network and account in demo.client.accounts
        ]
        series = sorted(followers(account).items())
        for (_d0, v0), (d1, v1) in itertools.pairwise(series):
            if v1 < v0:
                assert any(
                    e.start <= d1 < e.start + dt.timedelta(days=e.days)
                    and e.kind in ("unfollow_wave", "purge")
                    for e in noted
                ), (account.ref.external_id, d1)
    kinds = {e.kind for e in demo.client.events}
    assert {"contest", "unfollow_wave", "purge", "sync_gap"} <= kinds


def test_client_followers_grow_and_follows_add_up(demo: Demo):
    for account in demo.client.accounts:
        series = sorted(followers(account).items())
        growth = series[-1][1] / series[0][1] - 1
        assert 0.02 < growth < 0.6, (account.network, growth)
        flows = collections.defaultdict(dict)
        for d in account.daily:
            flows[d.metric][d.day] = d.value
        if "follows" in flows and "unfollows" in flows:
            fol = flows["followers"]
            for day, value in fol.items():
                before = fol.get(day - dt.timedelta(days=1))
                if before is not None:
                    assert value - before == flows["follows"][day] - flows["unfollows"][day]


def test_snapshots_only_grow(demo: Demo):
    for account in demo.all_accounts():
        by_post = collections.defaultdict(list)
        for p in account.posts:
            by_post[p.external_id].append(p)
        for snaps in by_post.values():
            snaps.sort(key=lambda p: p.snapshot_date)
            for a, b in itertools.pairwise(snaps):
                assert a.snapshot_date < b.snapshot_date
                assert all(b.metrics[m] >= v for m, v in a.metrics.items())


def test_engagements_are_the_sum_of_their_components(demo: Demo):
    for account in demo.client.accounts:
        for p in account.posts:
            parts = sum(p.metrics.get(m, 0) for m in ("reactions", "comments", "shares", "saves"))
            assert p.metrics["engagements"] == parts


def test_content_types_formats_and_breakouts(demo: Demo):
    for account in demo.client.accounts:
        posts = list(latest_snapshots(account).values())
        types = collections.Counter(p.content_type for p in posts)
        assert len(types) >= 2, account.network
        assert all(p.format for p in posts)
        rates = er_by_follower(account)
        assert sum(r > 5 * median(rates) for r in rates) >= 1, account.network


def test_posting_times_have_weekly_and_daily_patterns(demo: Demo):
    from tests.demo.helpers import LOCAL

    for account in demo.client.accounts:
        posts = list(latest_snapshots(account).values())
        local = [p.published_at.astimezone(LOCAL) for p in posts if p.published_at]
        hours = collections.Counter(t.hour for t in local)
        assert sum(n for h, n in hours.items() if 7 <= h <= 22) == len(local)
        if account.network in ("facebook", "linkedin", "x"):
            weekdays = sum(1 for t in local if t.weekday() < 5) / 5
            weekend = sum(1 for t in local if t.weekday() >= 5) / 2
            assert weekdays > 2 * weekend, account.network


def test_captions_are_french_with_hashtags_and_emoji(demo: Demo):
    posts = [p for a in demo.client.accounts for p in latest_snapshots(a).values()]
    assert all(p.text and "#" in p.text for p in posts)
    assert all(any(ord(c) > 0x2100 for c in p.text or "") for p in posts)
    french = ("les", "la", "de", "des", "à", "votre", "nos")
    assert sum(any(w in (p.text or "").split() for w in french) for p in posts) > 0.9 * len(posts)
    titles = [p.title for a in demo.client.accounts if a.network == "youtube" for p in a.posts]
    assert titles and all(titles)


def test_website_dimensions_add_up(demo: Demo):
    """As the GA4 connector stores them: every breakdown sums to the day's total."""
    sums = collections.defaultdict(lambda: collections.defaultdict(float))
    for r in demo.client.website.web:
        sums[(r.day, r.metric)][r.dimension] += r.value
    daily = {(d.day, d.metric): d.value for d in demo.client.website.daily}
    assert {m for _d, m in daily} == {
        "sessions",
        "engaged_sessions",
        "users",
        "pageviews",
        "conversions",
    }
    for (day, metric), dims in sums.items():
        assert dims["total"] == daily[(day, metric)] > 0
        if metric in ("users", "pageviews"):
            continue
        assert dims["channel_group"] == dims["total"] == dims["source_medium"]
        assert 0 < dims["social_network"] < dims["total"] or metric == "conversions"
        assert dims["social_landing_page"] == dims["social_network"], (day, metric)


def test_peers_history_starts_the_day_they_were_added(demo: Demo):
    added = sorted(p.added_on for p in demo.peers)
    assert len(set(added)) == 6 and added[-1] < demo.end
    for peer in demo.peers:
        assert "(démo)" in peer.name or "(demo)" in peer.name
        for account in peer.accounts:
            assert min(followers(account)) == peer.added_on
            # posts from before the day it was added are seen first on that day
            early = [p for p in account.posts if local_day(p) < peer.added_on]
            assert early and min(p.snapshot_date for p in early) == peer.added_on
            assert not {m for p in account.posts for m in p.metrics} & {"reach", "clicks"}


def test_reference_data_names_its_sources():
    raw = json.loads(
        resources.files("services.demo").joinpath("data/reference.json").read_text("utf-8")
    )
    known = set(raw["sources"])
    for entry in raw["engagement_rate_by_follower"].values():
        assert entry["basis"] and entry["band"][0] < entry["band"][1]
        assert all(p["source"] in known for p in entry["published"])
    for entry in raw["engagement_rate_by_impression"].values():
        assert entry["source"] in known
    for entry in raw["posts_per_week"].values():
        assert entry["source"] in known
