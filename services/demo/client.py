"""The demo client: a Québec regional tourism organisation and its six social accounts.

Its accounts were connected on the first day of the window, so Balise holds 18 months of
daily insights and every post with snapshots. The engagement-rate and posting-rate
targets come from ``data/reference.json``; the events below are the only days on which a
follower curve may go down, and the X sync gap is the only missing stretch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.demo.engine import simulate
from services.demo.engine_types import AccountPlan, FollowerEvent
from services.demo.records import DemoAccount, to_account
from services.demo.reference import Reference

NAME = "Tourisme Haute-Côte (démo)"
SLUG = "tourisme-haute-cote"
WEBSITE = "https://hautecote.example"


@dataclass(frozen=True)
class ClientAccountSpec:
    network: str
    external_id: str
    handle: str
    followers: float  # at the start of the window
    breakouts: int
    exposure_per_follower: float = 0.3


ACCOUNTS = (
    ClientAccountSpec("facebook", "100064000482917", "tourismehautecote.demo", 41_200, 2),
    ClientAccountSpec("instagram", "17841400000482917", "tourisme_hautecote_demo", 17_800, 3),
    ClientAccountSpec("x", "1184000000482917", "HauteCote_demo", 6_900, 1),
    ClientAccountSpec("linkedin", "80482917", "tourisme-haute-cote-demo", 3_900, 1),
    ClientAccountSpec(
        "youtube", "UCdemoHauteCote0482917aa", "TourismeHauteCoteDemo", 2_600, 1, 0.35
    ),
    ClientAccountSpec("pinterest", "tourismehautecotedemo", "tourismehautecotedemo", 1_900, 1, 1.2),
)


@dataclass(frozen=True)
class DemoEvent:
    """A noted event of the demo (the only reasons a curve bends or has a hole)."""

    network: str
    start: dt.date
    days: int
    kind: str
    description: str


def events(start: dt.date) -> dict[str, tuple[FollowerEvent, ...]]:
    """The client's follower events, placed relative to the window's first day."""

    def at(months: int, day: int) -> dt.date:
        month_index = start.year * 12 + start.month - 1 + months
        return dt.date(month_index // 12, month_index % 12 + 1, day)

    return {
        "instagram": (
            FollowerEvent(
                at(2, 14), 7, 0.06, "contest", "Concours « Gagnez un séjour » : pic d'abonnements"
            ),
            FollowerEvent(
                at(2, 24), 6, -0.015, "unfollow_wave", "Désabonnements après la fin du concours"
            ),
        ),
        "x": (
            FollowerEvent(
                at(9, 10), 1, -0.012, "purge", "X retire des comptes inactifs ou suspects"
            ),
        ),
        "facebook": (
            FollowerEvent(
                at(13, 15), 10, 0.025, "contest", "Concours estival avec un partenaire hôtelier"
            ),
            FollowerEvent(
                at(13, 27), 5, -0.006, "unfollow_wave", "Désabonnements après le concours estival"
            ),
        ),
    }


def sync_gap(start: dt.date) -> tuple[dt.date, ...]:
    """Three days without an X follower count: the sync failed and X keeps no history."""
    first = dt.date(start.year, 12, 24) if start.month < 12 else dt.date(start.year + 1, 12, 24)
    return tuple(first + dt.timedelta(days=i) for i in range(3))


def client_plans(ref: Reference, start: dt.date, end: dt.date) -> list[AccountPlan]:
    noted = events(start)
    plans = []
    for spec in ACCOUNTS:
        by_exposure = spec.network in ("youtube", "pinterest")
        target = (
            ref.er_by_impression(spec.network)
            if by_exposure
            else ref.er_by_follower_target(spec.network)
        )
        assert target is not None  # every client network has a target in the data file
        posts_per_week = ref.posts_per_week_target(spec.network)
        assert posts_per_week is not None
        plans.append(
            AccountPlan(
                key=f"client/{spec.network}",
                network=spec.network,
                external_id=spec.external_id,
                handle=spec.handle,
                name=NAME,
                collected_from=start,
                end=end,
                history_from=start,
                followers=spec.followers,
                monthly_growth=ref.monthly_growth(spec.network),
                posts_per_week=posts_per_week,
                er_target=target,
                by_exposure=by_exposure,
                exposure_per_follower=spec.exposure_per_follower,
                er_by_exposure=ref.er_by_impression(spec.network),
                own_insights=True,
                events=noted.get(spec.network, ()),
                breakouts=spec.breakouts,
                missing_follower_days=sync_gap(start) if spec.network == "x" else (),
            )
        )
    return plans


def client_accounts(
    seed: int, ref: Reference, start: dt.date, end: dt.date
) -> tuple[list[DemoAccount], list[DemoEvent]]:
    accounts = [to_account(simulate(seed, plan)) for plan in client_plans(ref, start, end)]
    noted = [
        DemoEvent(network, e.start, e.days, e.kind, e.description)
        for network, evs in events(start).items()
        for e in evs
    ]
    gap = sync_gap(start)
    noted.append(
        DemoEvent(
            "x",
            gap[0],
            len(gap),
            "sync_gap",
            "Synchronisation X en échec : pas de compte d'abonnés",
        )
    )
    return accounts, sorted(noted, key=lambda e: (e.start, e.network))
