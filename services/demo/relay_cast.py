"""Who the demo's relays are: organisations, people, topics, regions, bios (all fictional).

Organisations carry "(démo)" in their names and every handle ends in ``_demo``; the
people are invented from common Québec first and last names.
"""

from __future__ import annotations

import random

# topic (as the directory shows it) -> caption theme of its posts
TOPICS = {
    "plein air": "plein_air",
    "faune marine": "nature",
    "gastronomie": "saveurs",
    "photographie": "photo",
    "culture": "culture",
    "famille": "famille",
    "vanlife": "vanlife",
    "vélo": "plein_air",
    "ski": "hiver",
    "patrimoine": "culture",
    "écotourisme": "nature",
    "actualité régionale": "actualite",
    "événements": "evenements",
}

# Québec regions (and two neighbours for English relays) with towns their posts name.
REGIONS = {
    "Côte-Nord": ("Baie-Comeau", "Sept-Îles", "Tadoussac"),
    "Saguenay–Lac-Saint-Jean": ("Chicoutimi", "Roberval", "La Baie"),
    "Capitale-Nationale": ("Québec", "Wendake", "Stoneham"),
    "Bas-Saint-Laurent": ("Rimouski", "Kamouraska", "Trois-Pistoles"),
    "Gaspésie": ("Percé", "Carleton", "Gaspé"),
    "Charlevoix": ("Baie-Saint-Paul", "La Malbaie", "Saint-Siméon"),
    "Montréal": ("Montréal", "Verdun", "Lachine"),
    "Estrie": ("Sherbrooke", "Magog", "Coaticook"),
    "Mauricie": ("Trois-Rivières", "Shawinigan", "La Tuque"),
    "Outaouais": ("Gatineau", "Wakefield", "Chelsea"),
    "Ontario": ("Ottawa", "Toronto", "Kingston"),
    "Nouveau-Brunswick": ("Moncton", "Shediac", "Caraquet"),
}
FR_REGIONS = tuple(r for r in REGIONS if r not in ("Ontario", "Nouveau-Brunswick"))
EN_REGIONS = ("Ontario", "Nouveau-Brunswick", "Montréal", "Outaouais")

# (name, category, topics, language, region, networks)
ORGANISATIONS = (
    (
        "Le Courrier du Fjord (démo)",
        "media",
        ("actualité régionale", "événements"),
        "fr",
        "Côte-Nord",
        ("facebook", "x", "instagram"),
    ),
    (
        "Radio Boréale FM (démo)",
        "media",
        ("actualité régionale", "culture"),
        "fr",
        "Saguenay–Lac-Saint-Jean",
        ("facebook", "x"),
    ),
    (
        "Magazine Escapades Québec (démo)",
        "media",
        ("plein air", "gastronomie", "famille"),
        "fr",
        "Montréal",
        ("instagram", "facebook", "pinterest"),
    ),
    (
        "L'Écho de la Côte (démo)",
        "media",
        ("actualité régionale", "patrimoine"),
        "fr",
        "Bas-Saint-Laurent",
        ("facebook", "x"),
    ),
    (
        "Blogue Routes & Découvertes (démo)",
        "media",
        ("vanlife", "plein air"),
        "fr",
        "Capitale-Nationale",
        ("instagram", "youtube", "pinterest"),
    ),
    (
        "North Shore Weekly (demo)",
        "media",
        ("actualité régionale", "événements"),
        "en",
        "Ontario",
        ("facebook", "x"),
    ),
    (
        "Télé-Régions Nord (démo)",
        "media",
        ("actualité régionale", "culture"),
        "fr",
        "Mauricie",
        ("youtube", "facebook", "x"),
    ),
    (
        "Balado Plein Air Québec (démo)",
        "media",
        ("plein air", "écotourisme"),
        "fr",
        "Estrie",
        ("instagram", "youtube"),
    ),
    (
        "Club de kayak de mer Côte-Nord (démo)",
        "association",
        ("plein air", "faune marine"),
        "fr",
        "Côte-Nord",
        ("facebook", "instagram"),
    ),
    (
        "Association des randonneurs boréaux (démo)",
        "association",
        ("plein air", "écotourisme"),
        "fr",
        "Saguenay–Lac-Saint-Jean",
        ("facebook", "instagram"),
    ),
    (
        "Regroupement des microbrasseries de l'Est (démo)",
        "association",
        ("gastronomie",),
        "fr",
        "Bas-Saint-Laurent",
        ("instagram", "facebook"),
    ),
    (
        "Société d'histoire maritime du Nord (démo)",
        "association",
        ("patrimoine", "culture"),
        "fr",
        "Côte-Nord",
        ("facebook",),
    ),
    (
        "Collectif Vanlife Québec (démo)",
        "association",
        ("vanlife", "plein air"),
        "fr",
        "Estrie",
        ("instagram", "tiktok", "facebook"),
    ),
    (
        "Coop des producteurs boréaux (démo)",
        "association",
        ("gastronomie", "événements"),
        "fr",
        "Charlevoix",
        ("facebook", "instagram"),
    ),
    (
        "Parc marin des Caps (démo)",
        "institution",
        ("faune marine", "écotourisme"),
        "fr",
        "Côte-Nord",
        ("facebook", "instagram", "youtube"),
    ),
    (
        "Musée des phares du Saint-Laurent (démo)",
        "institution",
        ("patrimoine", "culture"),
        "fr",
        "Gaspésie",
        ("facebook", "instagram"),
    ),
    (
        "Cégep de Baie-Boréale (démo)",
        "institution",
        ("écotourisme", "actualité régionale"),
        "fr",
        "Côte-Nord",
        ("facebook", "instagram", "x"),
    ),
    (
        "Municipalité de Cap-Ardent (démo)",
        "institution",
        ("événements", "actualité régionale"),
        "fr",
        "Côte-Nord",
        ("facebook",),
    ),
    (
        "Centre des mammifères marins du Nord (démo)",
        "institution",
        ("faune marine", "famille"),
        "fr",
        "Côte-Nord",
        ("facebook", "instagram", "youtube"),
    ),
    (
        "Réseau des aires protégées de l'Est (démo)",
        "institution",
        ("écotourisme", "plein air"),
        "fr",
        "Gaspésie",
        ("facebook", "x"),
    ),
)

FIRST = (
    "Marie-Ève",
    "Jean-François",
    "Catherine",
    "Mathieu",
    "Audrey",
    "Félix",
    "Geneviève",
    "Olivier",
    "Noémie",
    "Samuel",
    "Émilie",
    "Gabriel",
    "Sarah",
    "Maxime",
    "Laurence",
    "Alexandre",
    "Camille",
    "Vincent",
    "Roxanne",
    "Étienne",
    "Joëlle",
    "Antoine",
)
LAST = (
    "Gagnon",
    "Tremblay",
    "Bouchard",
    "Côté",
    "Gauthier",
    "Morin",
    "Lavoie",
    "Fortin",
    "Gagné",
    "Ouellet",
    "Pelletier",
    "Bélanger",
    "Lévesque",
    "Bergeron",
    "Paquette",
    "Girard",
    "Simard",
    "Boucher",
    "Caron",
    "Dufour",
)
FIRST_EN = ("Emily", "Liam", "Olivia", "Noah", "Hannah", "Ryan", "Chloe", "Ethan")
LAST_EN = ("Walsh", "Chen", "Martin", "Campbell", "Singh", "MacDonald", "Murphy", "Wilson")

CREATOR_NETWORKS = (
    ("instagram", "tiktok"),
    ("instagram", "youtube"),
    ("instagram", "facebook"),
    ("youtube", "instagram", "tiktok"),
    ("instagram",),
    ("tiktok", "instagram"),
    ("instagram", "pinterest"),
    ("x", "instagram"),
)

BIO_FR = {
    "creator": (
        "Création de contenu : {topics} · {region} · toujours sur la route.",
        "{topics} | {region} | collaborations par courriel.",
        "Je raconte le Québec ({topics}). Partenariats responsables seulement. {region}.",
    ),
    "media": ("Média régional ({region}) : {topics}, nouvelles et reportages.",),
    "association": ("Association ({region}) : {topics}. Membres, sorties et événements.",),
    "institution": ("Institution publique ({region}) : {topics}. Horaires et activités.",),
}
BIO_EN = {
    "creator": ("Content creator: {topics}. Based in {region}, exploring Québec.",),
    "media": ("Regional news outlet: {topics} from {region}.",),
    "association": ("Association for {topics} in {region}.",),
    "institution": ("Public institution in {region}: {topics}.",),
}
TOPIC_EN = {
    "plein air": "outdoors",
    "faune marine": "marine wildlife",
    "gastronomie": "food",
    "photographie": "photography",
    "culture": "culture",
    "famille": "family travel",
    "vanlife": "vanlife",
    "vélo": "cycling",
    "ski": "skiing",
    "patrimoine": "heritage",
    "écotourisme": "ecotourism",
    "actualité régionale": "local news",
    "événements": "events",
}

NOTES = (
    "Rencontrée au salon Expo-Tourisme 2025.",
    "Préfère être contactée par courriel, pas en message privé.",
    "A déjà relayé la campagne hivernale d'un partenaire.",
    "Tarifs transmis : publication et trois stories.",
    "Intéressée par une résidence de création en août.",
    "",
    "",
)


def person_name(rng: random.Random, language: str, used: set[str]) -> str:
    first, last = (FIRST_EN, LAST_EN) if language == "en" else (FIRST, LAST)
    while True:
        name = f"{rng.choice(first)} {rng.choice(last)}"
        if name not in used:
            used.add(name)
            return name


def handle_for(name: str) -> str:
    """An ASCII handle from a display name (accents folded), with the demo suffix."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", name.replace("(démo)", "").replace("(demo)", ""))
    ascii_name = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in " -'"))
    words = [w for w in ascii_name.lower().replace("-", " ").replace("'", " ").split() if w]
    return ("".join(words)[:22] or "relay") + "_demo"


def bio(
    rng: random.Random, category: str, topics: tuple[str, ...], language: str, region: str
) -> str:
    if language == "en":
        names = ", ".join(TOPIC_EN[t] for t in topics)
        return rng.choice(BIO_EN[category]).format(topics=names, region=region)
    return rng.choice(BIO_FR[category]).format(topics=", ".join(topics), region=region)
