"""Sixty relays: media, associations, institutions and creators, on several networks.

Like peers, relays are public accounts: follower counts from the day each relay was added
to the directory, and recent posts with public counts. Their engagement rates follow
HypeAuditor's Instagram figures per tier, scaled to each network by the published
network medians. A few carry what the authenticity score looks for (a bought-follower
spike, mass following, engagement anomalies), and three are the same relay entered a
second time under another network (what deduplication must find).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from services.demo import relay_cast as cast
from services.demo.captions import Voice
from services.demo.engine import simulate
from services.demo.engine_types import AccountPlan, FollowerEvent
from services.demo.networks import PROFILES
from services.demo.rand import stream
from services.demo.records import DemoAccount, add_following, to_account
from services.demo.reference import Reference

BACKFILL_DAYS = 45
STATUSES = (  # (status, how many of the 57 distinct relays)
    ("co_creator", 3),
    ("partner", 5),
    ("relayed", 8),
    ("contacted", 12),
    ("declined", 2),
)
TIER_POOL = ("nano",) * 23 + ("micro",) * 19 + ("mid",) * 11 + ("macro",) * 4
DUPLICATES = 3


@dataclass(frozen=True)
class RelayEvent:
    """The relay shared one of the client's posts (amplification: extra reach, if known)."""

    client_post: str  # external id of the client's post
    network: str
    relayed_on: dt.date
    amplification: float | None


@dataclass
class DemoRelay:
    key: str
    name: str
    kind: str  # person or organisation
    category: str  # media, association, institution, creator
    topics: tuple[str, ...]
    language: str
    region: str
    tier: str  # intended tier of the main account (HypeAuditor boundaries)
    bio: str
    added_on: dt.date
    accounts: list[DemoAccount]
    following: dict[str, int]  # network -> accounts this relay follows
    status: str = "to_contact"
    notes: str = ""
    duplicate_of: str | None = None  # key of the relay this entry duplicates
    signals: tuple[str, ...] = ()  # follower_spike, mass_following, engagement_anomaly
    relays: list[RelayEvent] = field(default_factory=list)


@dataclass
class _Draft:
    name: str
    kind: str
    category: str
    topics: tuple[str, ...]
    language: str
    region: str
    networks: tuple[str, ...]
    tier: str = "nano"
    signals: tuple[str, ...] = ()
    handle: str = ""  # the handle used everywhere (default: from the name)

    def __post_init__(self) -> None:
        self.handle = self.handle or cast.handle_for(self.name)


def _drafts(rng: random.Random) -> list[_Draft]:
    drafts = [
        _Draft(name, "organisation", cat, topics, lang, region, nets)
        for name, cat, topics, lang, region, nets in cast.ORGANISATIONS
    ]
    used: set[str] = set()
    topic_names = list(cast.TOPICS)
    for i in range(57 - len(drafts)):
        lang = "en" if i % 6 == 5 else "fr"
        regions = cast.EN_REGIONS if lang == "en" else cast.FR_REGIONS
        category = "media" if i % 9 == 4 else "creator"
        drafts.append(
            _Draft(
                cast.person_name(rng, lang, used),
                "person",
                category,
                tuple(rng.sample(topic_names, k=rng.choice((1, 2, 2, 3)))),
                lang,
                rng.choice(regions),
                rng.choice(cast.CREATOR_NETWORKS),
            )
        )
    tiers = list(TIER_POOL)
    for draft in drafts:  # organisations first: their tiers follow their kind
        want = {"association": "nano", "institution": "micro", "media": "micro"}
        tier = want.get(draft.category, "") if draft.kind == "organisation" else ""
        if draft.name.startswith(("Magazine", "Télé-Régions")):
            tier = "mid"
        draft.tier = tier if tier in tiers else rng.choice(tiers)
        tiers.remove(draft.tier)
    # Flagged people show their following count on their main network (mass following).
    people = [
        d
        for d in drafts
        if d.kind == "person"
        and d.tier in ("micro", "mid")
        and PROFILES[d.networks[0]].shows_following
    ]
    picks = rng.sample(people, k=6)
    for draft, signal in zip(
        picks, ("follower_spike", "mass_following", "engagement_anomaly") * 2, strict=True
    ):
        draft.signals = (signal,)
    return drafts


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _network_base(ref: Reference, network: str) -> float:
    """The network's median ER by follower, relative to Instagram's (brand accounts)."""
    target = ref.er_by_follower_target(network)
    if target is None:
        band = ref.er_by_follower_band(network)
        assert band is not None
        target = math.sqrt(band.low * band.high)
    instagram = ref.er_by_follower_target("instagram")
    assert instagram is not None
    return target / instagram


def _plans(
    seed: int, ref: Reference, draft: _Draft, key: str, end: dt.date
) -> tuple[list[AccountPlan], dict[str, int], dt.date]:
    rng = stream(seed, "relay", key)
    added = end - dt.timedelta(days=rng.randint(30, 180))
    bounds = {t: (lo, hi or 2_000_000) for t, lo, hi in ref.tier_boundaries()}
    low, high = bounds[draft.tier]
    main_followers = _log_uniform(rng, low * 1.05, high * 0.95)
    plans, following = [], {}
    places = cast.REGIONS[draft.region]
    tags = (
        "#QuébecOriginal",
        "#" + draft.region.replace("–", "").replace("-", "").replace(" ", ""),
    )
    voice = Voice(places, tags, draft.language)
    themes = tuple(cast.TOPICS[t] for t in draft.topics)
    for i, network in enumerate(draft.networks):
        followers = main_followers if i == 0 else main_followers * rng.uniform(0.05, 0.6)
        tier_er = ref.instagram_er_for_tier(ref.tier_of(followers) or "nano")
        by_exposure = network in ("youtube", "pinterest")
        if by_exposure:
            er = ref.er_by_impression(network) * rng.uniform(0.7, 1.3)
        else:
            er = tier_er * _network_base(ref, network) * math.exp(rng.gauss(0, 0.3))
            if draft.kind == "organisation":
                er *= 0.6  # brand-like accounts engage less than people
        events: tuple[FollowerEvent, ...] = ()
        if i == 0 and "follower_spike" in draft.signals:
            spike = added + dt.timedelta(days=rng.randint(10, 25))
            events = (
                FollowerEvent(
                    spike,
                    2,
                    rng.uniform(0.3, 0.45),
                    "bought_followers",
                    "Pic d'abonnés sans publication marquante",
                ),
            )
        if i == 0 and "engagement_anomaly" in draft.signals:
            er *= rng.choice((6.0, 0.12))  # an engagement pod, or an audience that is not there
        ppw = {
            "creator": (2.0, 5.0),
            "media": (3.0, 8.0),
            "association": (0.8, 2.5),
            "institution": (1.5, 4.0),
        }[draft.category]
        cadence = rng.uniform(*ppw) * (0.25 if network == "youtube" else 1.0)
        cadence *= 1.0 if i == 0 else 0.5  # the main network gets most of the effort
        follows = rng.randint(150, 1200) if draft.kind == "person" else rng.randint(20, 600)
        if i == 0 and "mass_following" in draft.signals:
            follows = rng.randint(ref.mass_follower_threshold() + 300, 6500)
        following[network] = follows
        plans.append(
            AccountPlan(
                key=f"relay/{key}/{network}",
                network=network,
                external_id=f"{draft.handle}-{network}",
                handle=draft.handle,
                name=draft.name,
                collected_from=added,
                end=end,
                history_from=added - dt.timedelta(days=BACKFILL_DAYS),
                followers=followers,
                monthly_growth=ref.monthly_growth(network) * rng.uniform(0.3, 1.5),
                posts_per_week=cadence,
                er_target=er,
                by_exposure=by_exposure,
                exposure_per_follower={"youtube": 0.2, "pinterest": 0.8}.get(network, 0.3),
                er_by_exposure=ref.er_by_impression(network),
                voice=voice,
                themes=themes,
                events=events,
            )
        )
    return plans, following, added


def _duplicate(rng: random.Random, original: _Draft) -> _Draft:
    """The same relay entered again: another network, the name spelled without accents
    (or with the studio's name), and the handle a person keeps across networks."""
    import unicodedata

    plain = "".join(
        c for c in unicodedata.normalize("NFKD", original.name) if not unicodedata.combining(c)
    )
    name = plain.replace("Le ", "", 1)
    if name == original.name:  # nothing to fold: the import spelled it its own way
        name += " Studio" if original.language == "en" else " Créations"
    handle = original.handle if original.kind == "person" else ""
    spare = [n for n in ("youtube", "facebook", "tiktok", "x") if n not in original.networks]
    return _Draft(
        name,
        original.kind,
        original.category,
        original.topics[:1],
        original.language,
        original.region,
        (rng.choice(spare),),
        original.tier,
        handle=handle,
    )


def relays(
    seed: int, ref: Reference, end: dt.date, client_accounts: list[DemoAccount]
) -> list[DemoRelay]:
    """The directory: 57 distinct relays plus 3 entries that duplicate one of them."""
    rng = stream(seed, "relays")
    drafts = _drafts(rng)
    clean = [d for d in drafts if not d.signals]
    originals = [next(d for d in clean if d.kind == "organisation" and d.category == "media")]
    originals += rng.sample([d for d in clean if d.kind == "person"], k=DUPLICATES - 1)
    statuses = [s for s, n in STATUSES for _ in range(n)]
    statuses += ["to_contact"] * (len(drafts) - len(statuses))
    # Relays whose topics meet the client's pillars are the ones the agency works with.
    close = {"faune marine", "plein air", "gastronomie", "écotourisme", "patrimoine"}
    ranked = sorted(
        (d for d in drafts if not d.signals),
        key=lambda d: (-len(close & set(d.topics)), rng.random()),
    )
    status_of = dict(zip((d.name for d in ranked), statuses, strict=False))
    client_posts = _client_posts(client_accounts)

    out: list[DemoRelay] = []
    entries = [(d, None) for d in drafts] + [(_duplicate(rng, o), o) for o in originals]
    for i, (draft, original) in enumerate(entries):
        key = f"r{i + 1:02d}-{cast.handle_for(draft.name).removesuffix('_demo')[:20]}"
        plans, following, added = _plans(seed, ref, draft, key, end)
        accounts = [to_account(simulate(seed, plan)) for plan in plans]
        for account in accounts:
            if PROFILES[account.network].shows_following:
                add_following(account, following[account.network], stream(seed, key, "follows"))
        status = "to_contact" if original else status_of.get(draft.name, "to_contact")
        local = stream(seed, "relay", key, "meta")
        relay = DemoRelay(
            key=key,
            name=draft.name,
            kind=draft.kind,
            category=draft.category,
            topics=draft.topics,
            language=draft.language,
            region=draft.region,
            tier=draft.tier,
            bio=cast.bio(local, draft.category, draft.topics, draft.language, draft.region),
            added_on=added,
            accounts=accounts,
            following=following,
            status=status,
            notes=local.choice(cast.NOTES) if status != "to_contact" else "",
            signals=draft.signals,
        )
        if status in ("relayed", "partner", "co_creator"):
            relay.relays = _history(local, relay, client_posts)
        out.append(relay)
    key_of = {id(draft): relay.key for relay, (draft, _o) in zip(out, entries, strict=True)}
    for relay, (_draft, original) in zip(out, entries, strict=True):
        if original is not None:
            relay.duplicate_of = key_of[id(original)]
    return out


def _client_posts(accounts: list[DemoAccount]) -> dict[str, list[tuple[str, dt.date]]]:
    out: dict[str, list[tuple[str, dt.date]]] = {}
    for account in accounts:
        seen = {p.external_id: p.published_at for p in account.posts if p.published_at}
        out[account.network] = sorted(((e, t.date()) for e, t in seen.items()), key=lambda x: x[1])
    return out


def _history(
    rng: random.Random, relay: DemoRelay, client_posts: dict[str, list[tuple[str, dt.date]]]
) -> list[RelayEvent]:
    """Client posts the relay shared, on its main network (Instagram stands in for TikTok)."""
    main = relay.accounts[0]
    network = main.network if main.network in client_posts else "instagram"
    recent = [p for p in client_posts[network] if p[1] >= relay.added_on - dt.timedelta(days=120)]
    events = []
    followers = max((d.value for d in main.daily if d.metric == "followers"), default=0.0)
    for external_id, published in sorted(rng.sample(recent, k=min(len(recent), rng.randint(1, 4)))):
        known = rng.random() < 0.75
        events.append(
            RelayEvent(
                client_post=external_id,
                network=network,
                relayed_on=published + dt.timedelta(days=rng.randint(0, 3)),
                amplification=float(round(followers * rng.uniform(0.02, 0.12))) if known else None,
            )
        )
    return events


def shortlist(relays_: list[DemoRelay]) -> list[str]:
    """The client's shortlist: its co-creators and partners, and three promising contacts."""
    working = [r.key for r in relays_ if r.status in ("co_creator", "partner")]
    fresh = [
        r.key
        for r in relays_
        if r.status == "to_contact"
        and not r.signals
        and r.duplicate_of is None
        and r.language == "fr"
    ]
    return working + fresh[:3]
