"""Six fictional peers: regional tourism organisations of Québec and Canada.

Only what the public-data connectors would collect: follower counts from the day a peer
was added (never before: no history is invented), and its posts with their public
counts. Posts published up to 60 days before that day are there because the platforms
return recent posts (their counts observed on the day collection started).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from services.demo.captions import Voice
from services.demo.engine import simulate
from services.demo.engine_types import AccountPlan
from services.demo.networks import PROFILES
from services.demo.rand import stream
from services.demo.records import DemoAccount, add_following, to_account
from services.demo.reference import Reference

BACKFILL_DAYS = 60


@dataclass(frozen=True)
class PeerSpec:
    key: str
    name: str
    region: str
    province: str
    language: str
    website: str
    description: str
    added_days_before_end: int
    handle: str
    followers: dict[str, float]  # network -> followers when added
    places: tuple[str, ...]
    tags: tuple[str, ...]


SPECS = (
    PeerSpec(
        "fjord-bleu",
        "Destination Fjord-Bleu (démo)",
        "Fjord-Bleu (région fictive)",
        "QC",
        "fr",
        "https://fjordbleu.example",
        "Organisme de promotion touristique d'une région de fjord fictive : croisières, kayak, "
        "villages de pêcheurs.",
        378,
        "fjordbleu_demo",
        {"facebook": 62_000, "instagram": 31_000, "x": 9_800, "youtube": 5_400},
        ("Anse-aux-Loups", "Cap-Brûlé", "Rivière-Claire"),
        ("#FjordBleu", "#QuébecOriginal"),
    ),
    PeerSpec(
        "vallee-des-huards",
        "Tourisme Vallée-des-Huards (démo)",
        "Vallée-des-Huards (région fictive)",
        "QC",
        "fr",
        "https://valleedeshuards.example",
        "Destination de lacs et de forêts : pourvoiries, canot-camping, villages d'art.",
        311,
        "valleedeshuards_demo",
        {"facebook": 28_500, "instagram": 12_400, "pinterest": 3_100},
        ("Lac-aux-Huards", "Saint-Alcide", "Val-des-Pins"),
        ("#ValléeDesHuards", "#QuébecOriginal"),
    ),
    PeerSpec(
        "monts-lumiere",
        "Tourisme Monts-Lumière (démo)",
        "Monts-Lumière (région fictive)",
        "QC",
        "fr",
        "https://montslumiere.example",
        "Montagnes et stations : ski, vélo de montagne, spas nordiques, gastronomie.",
        265,
        "montslumiere_demo",
        {"facebook": 74_000, "instagram": 48_000, "x": 12_500},
        ("Mont-Vermeil", "Sainte-Aurore", "Lac-Brillant"),
        ("#MontsLumière", "#QuébecOriginal"),
    ),
    PeerSpec(
        "cote-des-phares",
        "Côte-des-Phares Tourisme (démo)",
        "Côte-des-Phares (région fictive)",
        "QC",
        "fr",
        "https://cotedesphares.example",
        "Route maritime des phares : observation des baleines, fruits de mer, patrimoine.",
        181,
        "cotedesphares_demo",
        {"facebook": 39_000, "instagram": 21_500, "youtube": 3_900, "pinterest": 2_400},
        ("Pointe-aux-Feux", "Havre-Gris", "Baie-des-Sternes"),
        ("#CôteDesPhares", "#QuébecOriginal"),
    ),
    PeerSpec(
        "baie-d-ardoise",
        "Destination Baie-d'Ardoise (démo)",
        "Baie-d'Ardoise (région fictive)",
        "NB",
        "fr",
        "https://baiedardoise.example",
        "Destination acadienne bilingue : plages chaudes, homard, festivals acadiens.",
        160,
        "baiedardoise_demo",
        {"facebook": 33_000, "instagram": 14_200, "x": 5_600, "youtube": 2_100},
        ("Cap-d'Ardoise", "Saint-Lévite", "Pointe-Marine"),
        ("#BaieDArdoise", "#Acadie"),
    ),
    PeerSpec(
        "north-prairie",
        "North Prairie Tourism (demo)",
        "North Prairie (fictional region)",
        "MB",
        "en",
        "https://northprairie.example",
        "Fictional prairie and lakes destination: canoe routes, northern lights, Indigenous "
        "tourism.",
        90,
        "northprairie_demo",
        {"facebook": 26_000, "instagram": 16_800, "x": 6_300, "pinterest": 2_900},
        ("Pine Rapids", "Aurora Lake", "Grassy Narrows Point"),
        ("#NorthPrairie", "#ExploreCanada"),
    ),
)

# The client's peer group. One group: ingest keys a peer's account by (client, network,
# id) and one owner, so the same organisation cannot be a peer in two of a client's groups.
GROUPS = (
    (
        "Destinations touristiques régionales comparables",
        "Organismes de tourisme régionaux du Québec et du Canada, de taille et de saison "
        "comparables à la Haute-Côte (fictifs).",
        tuple(spec.key for spec in SPECS),
    ),
)


@dataclass(frozen=True)
class DemoPeer:
    key: str
    name: str
    region: str
    province: str
    language: str
    website: str
    description: str
    added_on: dt.date
    accounts: list[DemoAccount]


def _log_uniform(rng_value: float, low: float, high: float) -> float:
    return math.exp(math.log(low) + rng_value * (math.log(high) - math.log(low)))


def peer_plans(seed: int, ref: Reference, spec: PeerSpec, end: dt.date) -> list[AccountPlan]:
    added = end - dt.timedelta(days=spec.added_days_before_end)
    plans = []
    for i, (network, followers) in enumerate(sorted(spec.followers.items())):
        rng = stream(seed, "peer", spec.key, network)
        by_exposure = network in ("youtube", "pinterest")
        er_band = (
            ref.er_by_exposure_band(network) if by_exposure else ref.er_by_follower_band(network)
        )
        assert er_band is not None
        # Each peer sits somewhere in the published band: some do better than the client.
        er = _log_uniform(rng.random(), er_band.low * 1.15, er_band.high * 0.85)
        ppw = ref.posts_per_week_band(network)
        plans.append(
            AccountPlan(
                key=f"peer/{spec.key}/{network}",
                network=network,
                external_id=f"{spec.handle}-{network}-{1000 + i}",
                handle=spec.handle,
                name=spec.name,
                collected_from=added,
                end=end,
                history_from=added - dt.timedelta(days=BACKFILL_DAYS),
                followers=followers,
                monthly_growth=ref.monthly_growth(network) * rng.uniform(0.5, 1.6),
                posts_per_week=rng.uniform(ppw.low * 1.2, ppw.high * 0.85),
                er_target=er,
                by_exposure=by_exposure,
                exposure_per_follower={"youtube": 0.3, "pinterest": 1.0}.get(network, 0.3),
                er_by_exposure=ref.er_by_impression(network),
                voice=Voice(spec.places, spec.tags, spec.language),
                breakouts=rng.choice((0, 1, 1, 2)),
            )
        )
    return plans


def peers(seed: int, ref: Reference, end: dt.date) -> list[DemoPeer]:
    out = []
    for spec in SPECS:
        accounts = [to_account(simulate(seed, plan)) for plan in peer_plans(seed, ref, spec, end)]
        for account in accounts:
            if PROFILES[account.network].shows_following:
                rng = stream(seed, "peer", spec.key, account.network, "follows")
                add_following(account, rng.randint(150, 900), rng)
        out.append(
            DemoPeer(
                key=spec.key,
                name=spec.name,
                region=spec.region,
                province=spec.province,
                language=spec.language,
                website=spec.website,
                description=spec.description,
                added_on=end - dt.timedelta(days=spec.added_days_before_end),
                accounts=accounts,
            )
        )
    return out
