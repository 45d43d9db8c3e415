"""The demo client's starting draft plan: what a strategist would have sketched.

Audiences, objectives without targets (the planner suggests them from the measured
baseline and the peers), the editorial line the client's posts already follow, its
spaces with their cadence, the team, and a "start small, think big" first phase.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.schemas.ingest import Network
from shared.schemas.planner import (
    Animator,
    Audience,
    ObjectiveKind,
    Phase,
    Pillar,
    Space,
    StyleGuide,
)


@dataclass(frozen=True)
class ObjectiveDraft:
    audience: str  # key of the audience below
    kind: ObjectiveKind
    kpi: str
    network: Network | None
    description: str


@dataclass(frozen=True)
class PlanDraft:
    name: str
    period_start: dt.date
    period_end: dt.date
    audiences: dict[str, Audience]
    objectives: tuple[ObjectiveDraft, ...]
    pillars: tuple[Pillar, ...]
    style: StyleGuide
    spaces: tuple[Space, ...]  # animator_id holds the animator's key below
    animators: dict[str, Animator]
    first_phase: Phase


def plan_draft(end: dt.date) -> PlanDraft:
    start = dt.date(end.year + (end.month == 12), end.month % 12 + 1, 1)
    audiences = {
        "familles": Audience(
            name="Familles du Québec",
            description="Parents de 30 à 50 ans qui planifient les vacances d'été en famille.",
            age_bands=["25-34", "35-44", "45-54"],
            language="fr",
            region="QC",
            interests=["vacances en famille", "plage", "baleines", "camping"],
            networks=[Network.facebook, Network.instagram],
        ),
        "plein_air": Audience(
            name="Amateurs de plein air",
            description="Adeptes de kayak, de randonnée et de vélo qui cherchent des "
            "itinéraires et des conditions à jour.",
            age_bands=["18-24", "25-34", "35-44"],
            language="fr",
            region="QC",
            interests=["kayak de mer", "randonnée", "vélo", "camping"],
            networks=[Network.instagram, Network.youtube],
        ),
        "hors_quebec": Audience(
            name="Visiteurs hors Québec",
            description="Voyageurs anglophones de l'Ontario et du Nord-Est américain.",
            age_bands=["35-44", "45-54", "55-64"],
            language="en",
            region="CA",
            interests=["whale watching", "road trip", "seafood"],
            networks=[Network.facebook, Network.pinterest],
        ),
        "industrie": Audience(
            name="Partenaires de l'industrie",
            description="Entreprises touristiques, municipalités et médias de la région.",
            age_bands=["25-34", "35-44", "45-54", "55-64"],
            language="fr",
            region="QC",
            interests=["développement régional", "emploi", "formation"],
            networks=[Network.linkedin],
        ),
    }
    objectives = (
        ObjectiveDraft(
            "familles",
            ObjectiveKind.engagement,
            "engagement_rate_by_follower",
            Network.instagram,
            "Faire réagir les familles aux contenus d'été.",
        ),
        ObjectiveDraft(
            "familles",
            ObjectiveKind.traffic,
            "social_sessions",
            None,
            "Amener les familles vers les pages d'hébergement et de forfaits.",
        ),
        ObjectiveDraft(
            "plein_air",
            ObjectiveKind.awareness,
            "followers",
            Network.instagram,
            "Faire connaître la Haute-Côte aux adeptes de plein air.",
        ),
        ObjectiveDraft(
            "plein_air",
            ObjectiveKind.engagement,
            "engagement_rate_by_follower",
            Network.youtube,
            "Des vidéos d'itinéraires que l'on regarde jusqu'au bout.",
        ),
        ObjectiveDraft(
            "hors_quebec",
            ObjectiveKind.awareness,
            "followers",
            Network.facebook,
            "Gagner une audience hors Québec avant la saison des baleines.",
        ),
        ObjectiveDraft(
            "industrie",
            ObjectiveKind.advocacy,
            "shares",
            Network.linkedin,
            "Que les partenaires relaient les nouvelles de la destination.",
        ),
    )
    pillars = (
        Pillar(name="Nature et faune", share=0.3, description="Baleines, fjord, oiseaux marins."),
        Pillar(name="Plein air", share=0.25, description="Kayak, sentiers, vélo, hiver."),
        Pillar(name="Saveurs locales", share=0.15, description="Fruits de mer, microbrasseries."),
        Pillar(name="Culture et patrimoine", share=0.1, description="Phares, artisans, histoire."),
        Pillar(name="Événements", share=0.1, description="Festivals, marchés, concours."),
        Pillar(name="Infos pratiques", share=0.1, description="Routes, traversier, accueil."),
    )
    style = StyleGuide(
        tone="Chaleureux, fier de la région, concret : on donne envie puis on donne l'info.",
        voice_attributes=["accueillant", "passionné", "précis"],
        do=["nommer les villages", "donner une info pratique", "poser une question"],
        dont=["promettre des baleines à coup sûr", "abuser des majuscules"],
        vocabulary=["Haute-Côte", "fjord", "baleines", "road trip"],
        avoid_terms=["paradis caché"],
        hashtag_policy="Deux à six mots-clics, dont #HauteCôte ; #QuébecOriginal en saison.",
        hashtags=["#HauteCôte", "#CôteNord", "#QuébecOriginal"],
        languages=["fr", "en"],
    )
    animators = {
        "jordan": Animator(
            name="Jordan Animation", email="animation@demo.balise", hours_per_week=20
        ),
        "camille": Animator(
            name="Camille Stratège", email="strategiste@demo.balise", hours_per_week=6
        ),
    }
    spaces = (
        Space(
            network=Network.facebook,
            animator_id="jordan",
            posts_per_week=4.5,
            formats=["reel", "photo", "album"],
        ),
        Space(
            network=Network.instagram,
            animator_id="jordan",
            posts_per_week=4,
            formats=["REELS", "CAROUSEL_ALBUM"],
        ),
        Space(
            network=Network.youtube,
            animator_id="jordan",
            posts_per_week=0.5,
            minutes_per_post=240,
            formats=["SHORTS", "VIDEO"],
        ),
        Space(
            network=Network.pinterest,
            animator_id="jordan",
            posts_per_week=3,
            minutes_per_post=15,
            community_minutes_per_week=15,
        ),
        Space(
            network=Network.linkedin,
            animator_id="camille",
            posts_per_week=1.5,
            formats=["DOCUMENT", "VIDEO"],
        ),
        Space(network=Network.x, posts_per_week=2, minutes_per_post=10),
    )
    first = Phase(
        name="Phase 1 : Instagram et Facebook",
        networks=[Network.instagram, Network.facebook],
        start=start,
        rationale="Commencer petit : les deux réseaux où la Haute-Côte a déjà son audience "
        "et où ses reels et carrousels performent le mieux.",
    )
    return PlanDraft(
        name="Plan de communication 2027 (brouillon)",
        period_start=start,
        period_end=dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1),
        audiences=audiences,
        objectives=objectives,
        pillars=pillars,
        style=style,
        spaces=spaces,
        animators=animators,
        first_phase=first,
    )
