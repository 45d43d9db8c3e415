"""Best practices: breakouts with a stated threshold, effects with their sample sizes."""

from __future__ import annotations

import datetime as dt

import pytest

from services.benchmark.peers import practices
from services.benchmark.peers.practices import AccountPosts
from shared.schemas.ingest import Network
from tests.benchmark.factories import post


def _account(aid: int, owner: str, posts):
    return AccountPosts(aid, owner, Network.instagram, "America/Toronto", posts)


def test_breakout_threshold_by_hand():
    # 10 posts at 1 %, one at 3.5 %: median of 11 = 1 %, the last is 3.5× → breakout;
    # one at 2.9 % would not be (threshold 3×).
    posts = [post(1, 0.01) for _ in range(9)] + [post(1, 0.029), post(1, 0.035)]
    bp = practices.analyse([_account(1, "Peer A", posts)])
    assert bp.breakout_multiple == 3.0 and "3×" in bp.breakout_rule
    assert [b.multiple for b in bp.breakouts] == [3.5]
    assert bp.breakouts[0].account_median == pytest.approx(0.01)
    assert bp.breakouts[0].owner == "Peer A"


def test_format_effect_with_sample_sizes():
    accounts = []
    for aid in range(1, 4):  # three peers, 20 videos at 2 % and 20 photos at 1 % each
        posts = [post(aid, 0.02, content_type="video") for _ in range(20)]
        posts += [post(aid, 0.01, content_type="photo") for _ in range(20)]
        accounts.append(_account(aid, f"P{aid}", posts))
    bp = practices.analyse(accounts)
    # each account's median = 1.5 %: videos are 1.333 relative, photos 0.667 → effect 2.0
    video = next(f for f in bp.findings if f.dimension == "format" and f.value == "video")
    assert video.effect == 2.0
    assert video.median_relative_rate == pytest.approx(1.3333, abs=1e-4)
    assert (video.posts, video.posts_without, video.accounts) == (60, 60, 3)
    assert "2.00×" in video.statement and "60 vs 60 posts" in video.statement
    assert not any(f.value == "photo" for f in bp.findings if f.dimension == "format")


def test_nothing_claimed_under_the_minimum_sample_and_it_says_why():
    posts = [post(1, 0.02, content_type="video") for _ in range(6)]
    posts += [post(1, 0.01, content_type="photo") for _ in range(6)]
    bp = practices.analyse([_account(1, "Solo", posts), _account(2, "Tiny", posts[:3])])
    assert bp.findings == []
    assert any("format" in w and "minimum sample" in w for w in bp.withheld)
    assert any(w.startswith("Tiny") and "fewer than 10" in w for w in bp.withheld)
    empty = practices.analyse([])
    assert empty.findings == [] and "no best practice" in empty.withheld[0]


def test_time_slots_use_the_accounts_time_zone():
    p = post(1, 0.01, published_at=dt.datetime(2025, 6, 3, 3, 0, tzinfo=dt.UTC))
    # 03:00 UTC on Tuesday is 23:00 on Monday in Toronto (UTC−4 in June)
    assert practices.slot_of(p, "America/Toronto") == "Mon evening"
    assert practices.hashtags(post(1, 0.01, text="Go #Québec #MTL!")) == {"#quebec", "#mtl"}
