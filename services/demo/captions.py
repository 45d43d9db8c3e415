"""French (and some English) captions, titles and hashtags for the demo's posts.

Captions are assembled from templates per theme and season so that the text carries
the themes the benchmark's relevance scoring and the planner's pillars look for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PLACES = (
    "Tadoussac",
    "Bergeronnes",
    "Longue-Rive",
    "Portneuf-sur-Mer",
    "Forestville",
    "Colombier",
    "Sacré-Cœur",
)

# theme -> (hook templates, hashtags, emoji); {lieu} is filled with a place.
THEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "nature": (
        (
            "Les baleines sont de retour au large de {lieu} ! Rorquals et bélugas vous attendent.",
            "Le fjord au lever du soleil, vu depuis {lieu}. On ne s'en lasse pas.",
            "Un phoque curieux nous a rendu visite ce matin près de {lieu}.",
            "Les dunes et les battures de {lieu} : un décor à couper le souffle.",
            "Observation des oiseaux marins à {lieu} : fous de Bassan et eiders au rendez-vous.",
        ),
        ("#baleines", "#fjord", "#faunemarine", "#nature", "#SaintLaurent"),
        ("🐋", "🌊", "🐳", "🦭", "🌅"),
    ),
    "plein_air": (
        (
            "Kayak de mer entre les caps de {lieu} : réservez votre sortie guidée.",
            "Nouveau sentier de randonnée à {lieu}, 7 km avec vue sur le fleuve.",
            "Vélo sur la Route des Baleines : l'étape {lieu} est notre coup de cœur.",
            "Camping sur la plage à {lieu} : les emplacements d'été s'envolent vite !",
            "Paddle au coucher du soleil près de {lieu}, qui est partant ?",
        ),
        ("#pleinair", "#kayakdemer", "#randonnée", "#vélo", "#camping"),
        ("🛶", "🥾", "🚴", "🏕️", "⛰️"),
    ),
    "hiver": (
        (
            "La motoneige dans les sentiers de {lieu}, c'est parti pour la saison !",
            "Raquette et ski nordique à {lieu} : les conditions sont parfaites.",
            "Pêche blanche sur la rivière près de {lieu} : notre guide de l'hiver.",
            "Un chalet douillet à {lieu} après une journée de glisse ?",
        ),
        ("#hiverquébécois", "#motoneige", "#raquette", "#skinordique", "#neige"),
        ("❄️", "⛷️", "🏔️", "☃️"),
    ),
    "saveurs": (
        (
            "Crabe des neiges, pétoncles et bière de microbrasserie : {lieu} se déguste.",
            "Nos poissonneries de {lieu} ouvrent leurs portes pour la saison.",
            "Bleuets sauvages et chicoutai : les saveurs boréales de {lieu}.",
            "Circuit gourmand : cinq arrêts à ne pas manquer autour de {lieu}.",
        ),
        ("#terroir", "#microbrasserie", "#fruitsdemer", "#gourmand", "#mangerlocal"),
        ("🦀", "🍺", "🫐", "🍽️", "🦞"),
    ),
    "culture": (
        (
            "Le phare de {lieu} ouvre ses portes aux visiteurs : histoire et panorama garantis.",
            "Rencontre avec les artisans de {lieu} : savoir-faire et fierté locale.",
            "Le patrimoine innu et maritime de la Côte-Nord raconté à {lieu}.",
            "Exposition estivale au centre d'interprétation de {lieu}.",
        ),
        ("#patrimoine", "#culture", "#phare", "#histoire", "#artisans"),
        ("🏛️", "🎨", "⚓", "📜"),
    ),
    "evenements": (
        (
            "Le festival de la chanson de {lieu} dévoile sa programmation !",
            "Marché public tous les samedis à {lieu} : producteurs et artisans d'ici.",
            "Feux d'artifice et spectacle sur le quai de {lieu} ce week-end.",
            "Concours : gagnez deux nuits pour deux à {lieu} ! Commentez et partagez.",
        ),
        ("#festival", "#événement", "#quoifaire", "#concours", "#weekend"),
        ("🎉", "🎶", "🎆", "🎟️"),
    ),
    "pratique": (
        (
            "Traversier et conditions routières : tout pour préparer votre venue à {lieu}.",
            "Nos bureaux d'accueil touristique de {lieu} sont ouverts 7 jours sur 7.",
            "Planifiez votre séjour : carte interactive des attraits autour de {lieu}.",
            "Où dormir à {lieu} ? Notre sélection d'hébergements pour tous les budgets.",
        ),
        ("#infotourisme", "#planifiervotreséjour", "#roadtrip", "#hébergement"),
        ("ℹ️", "🗺️", "🚗", "🛏️"),
    ),
    "industrie": (
        (
            "Bilan de la saison : hausse de la fréquentation à notre accueil de {lieu}.",
            "Formation gratuite pour les entreprises de {lieu} : accueil et numérique.",
            "Nous recrutons ! Rejoignez l'équipe de promotion touristique basée à {lieu}.",
            "Nouveau partenariat régional pour développer l'écotourisme à {lieu}.",
        ),
        ("#industrietouristique", "#emploi", "#écotourisme", "#développementrégional"),
        ("📈", "🤝", "💼", "📣"),
    ),
    "photo": (
        (
            "Lumière dorée sur le fleuve près de {lieu}, f/8 et beaucoup de patience.",
            "Mes cinq spots photo préférés autour de {lieu} (le troisième est secret !).",
            "Aurores boréales au-dessus de {lieu} cette nuit : quelle chance.",
        ),
        ("#photographie", "#paysage", "#photoQC", "#aurores"),
        ("📸", "🌌", "🌄"),
    ),
    "famille": (
        (
            "Vacances en famille à {lieu} : nos activités testées avec les enfants.",
            "Une journée à la plage de {lieu} avec les petits, zéro écran.",
            "Où manger avec des enfants à {lieu} ? Nos bonnes adresses.",
        ),
        ("#famille", "#vacancesenfamille", "#enfants", "#voyagerenfamille"),
        ("👨‍👩‍👧", "🏖️", "🧒"),
    ),
    "vanlife": (
        (
            "Nuit au bord de l'eau à {lieu} avec le van, réveil avec les baleines.",
            "Road trip en van : étape à {lieu}, eau potable et vue incluses.",
            "Cuisine de van : chaudrée de fruits de mer à {lieu}.",
        ),
        ("#vanlife", "#roadtrip", "#vanlifequebec", "#liberté"),
        ("🚐", "🗺️", "🌅"),
    ),
    "actualite": (
        (
            "La saison touristique en chiffres : {lieu} fait le plein de visiteurs.",
            "Nouvelle piste cyclable inaugurée à {lieu}, reportage.",
            "Le conseil municipal de {lieu} adopte son plan de développement touristique.",
        ),
        ("#actualité", "#régions", "#info", "#tourisme"),
        ("📰", "🎙️", "📣"),
    ),
}
COMMON_TAGS = ("#HauteCôte", "#CôteNord", "#QuébecOriginal", "#TourismeQuébec")
CALLS = (
    "Toutes les infos dans le lien.",
    "Dites-nous en commentaire votre coin préféré !",
    "Partagez avec la personne qui doit absolument voir ça.",
    "Réservez tôt, les places partent vite.",
    "Enregistrez cette publication pour votre prochain road trip.",
    "",
)
ENGLISH: dict[str, tuple[str, ...]] = {
    "photo": ("Golden hour over the river near {lieu}.", "Northern lights above {lieu}!"),
    "famille": ("Family day at the beach in {lieu}.", "Kid-approved things to do in {lieu}."),
    "vanlife": ("Van night by the water in {lieu}.", "Road trip stop: {lieu}."),
    "actualite": ("Tourism season by the numbers in {lieu}.", "New bike path opens in {lieu}."),
    "nature": ("Whales spotted off {lieu} this morning!", "Sunrise on the fjord near {lieu}."),
    "plein_air": ("Sea kayaking near {lieu}: a must.", "A new 7 km trail near {lieu}."),
    "hiver": ("Snowshoeing near {lieu} today.", "Fresh snow on the trails around {lieu}."),
    "saveurs": ("Snow crab season in {lieu}!", "Local brews and seafood in {lieu}."),
    "culture": ("The lighthouse at {lieu} is open again.", "Meet the makers of {lieu}."),
    "evenements": ("Festival weekend in {lieu}!", "Farmers' market every Saturday in {lieu}."),
    "pratique": ("Planning a trip to {lieu}? Start here.", "Where to stay around {lieu}."),
    "industrie": ("Tourism season report for {lieu}.", "Hiring: join the team in {lieu}."),
}

# Themes the client tends to publish per season; the client's pillars.
SEASON_THEMES = {
    "été": ("nature", "plein_air", "saveurs", "evenements", "culture", "pratique"),
    "automne": ("nature", "plein_air", "saveurs", "culture", "pratique"),
    "hiver": ("hiver", "saveurs", "culture", "evenements", "pratique"),
    "printemps": ("nature", "plein_air", "pratique", "evenements", "saveurs"),
}
PILLARS = {
    "nature": "Nature et faune",
    "plein_air": "Plein air",
    "hiver": "Plein air",
    "saveurs": "Saveurs locales",
    "culture": "Culture et patrimoine",
    "evenements": "Événements",
    "pratique": "Infos pratiques",
    "industrie": "Industrie touristique",
    "photo": "Photographie",
    "famille": "Famille",
    "vanlife": "Road trip",
    "actualite": "Actualité",
}


@dataclass(frozen=True)
class Voice:
    """Whose words: the places an owner talks about, its own hashtags, its language."""

    places: tuple[str, ...]
    tags: tuple[str, ...]
    language: str = "fr"


CLIENT_VOICE = Voice(PLACES, COMMON_TAGS)


def pick_theme(rng: random.Random, season: str, network: str) -> str:
    if network == "linkedin" and rng.random() < 0.55:
        return "industrie"
    return rng.choice(SEASON_THEMES[season])


def caption(rng: random.Random, theme: str, network: str, voice: Voice = CLIENT_VOICE) -> str:
    """A caption in the network's style: short on X, more hashtags on Instagram."""
    place = rng.choice(voice.places)
    hooks, tags, emoji = THEMES[theme]
    if voice.language == "en":
        text = rng.choice(ENGLISH[theme]).format(lieu=place)
        return f"{rng.choice(emoji)} {text} {' '.join(voice.tags[:2])}"
    hook = rng.choice(hooks).format(lieu=place)
    if network == "x":
        return f"{rng.choice(emoji)} {hook} {rng.choice(tags)} {voice.tags[0]}"
    n_tags = {"instagram": 6, "pinterest": 3, "linkedin": 3}.get(network, 2)
    chosen = rng.sample(list(tags), k=min(len(tags), n_tags - 1))
    chosen.append(rng.choice(voice.tags))
    call = rng.choice(CALLS)
    parts = [f"{rng.choice(emoji)} {hook}", call, " ".join(chosen)]
    separator = "\n\n" if network in ("instagram", "linkedin") else " "
    return separator.join(p for p in parts if p)


def title(rng: random.Random, theme: str, content_type: str, voice: Voice = CLIENT_VOICE) -> str:
    """A YouTube or Pinterest title."""
    place = rng.choice(voice.places)
    pillar = PILLARS[theme]
    if voice.language == "en":
        return f"{place} in 30 seconds #shorts" if content_type == "short" else f"Discover {place}"
    if content_type == "short":
        return f"{pillar} à {place} en 30 secondes #shorts"
    return f"{pillar} : {place} comme vous ne l'avez jamais vu"
