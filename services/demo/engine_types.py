"""The shapes the account simulator works with (see :mod:`services.demo.engine`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.demo import captions
from services.demo.networks import NetworkProfile

SNAPSHOT_AGES = (1, 7, 30)


@dataclass(frozen=True)
class FollowerEvent:
    """Something that bends a follower curve; ``change`` is a share of followers (±)."""

    start: dt.date
    days: int
    change: float
    kind: str  # contest, unfollow_wave, purge, bought_followers, breakout
    description: str

    def covers(self, day: dt.date) -> bool:
        return self.start <= day < self.start + dt.timedelta(days=self.days)


@dataclass(frozen=True)
class AccountPlan:
    key: str  # names the random stream
    network: str
    external_id: str
    handle: str
    name: str
    collected_from: dt.date  # first day Balise observes the account
    end: dt.date
    history_from: dt.date  # first day simulated (posts before collection = API backfill)
    followers: float  # followers on ``history_from``
    monthly_growth: float
    posts_per_week: float
    er_target: float  # median ER of posts at their latest snapshot (see ``by_exposure``)
    by_exposure: bool = False  # target is per view/impression (YouTube, Pinterest)
    exposure_per_follower: float = 0.3  # exposure-driven networks: views per follower
    er_by_exposure: float = 0.02  # exposure per engagement for follower-driven ones
    own_insights: bool = False  # the client's own account: full metrics and daily flows
    voice: captions.Voice = captions.CLIENT_VOICE
    themes: tuple[str, ...] | None = None  # fixed themes (relays); None = seasonal pillars
    events: tuple[FollowerEvent, ...] = ()
    breakouts: int = 0
    missing_follower_days: tuple[dt.date, ...] = ()  # sync gaps: no value, not zero


@dataclass
class SimPost:
    external_id: str
    published_at: dt.datetime
    local_day: dt.date
    content_type: str
    format: str
    text: str
    title: str | None
    permalink: str
    duration_seconds: float | None
    theme: str
    breakout: bool
    followers_at_post: float
    totals: dict[str, float]  # 90-day totals (floats, before rounding)
    snapshots: list[tuple[dt.date, dict[str, float]]] = field(default_factory=list)


@dataclass
class SimAccount:
    plan: AccountPlan
    profile: NetworkProfile
    days: list[dt.date]  # collected days
    followers: list[float]  # one per collected day (NaN for sync gaps)
    daily: dict[str, list[float]]  # metric -> one value per collected day
    posts: list[SimPost]
