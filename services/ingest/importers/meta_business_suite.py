"""Meta Business Suite post exports (Insights → Content → Export), Facebook and Instagram.

One row per post with its lifetime figures (the ``Date`` column says ``Lifetime``).
``Publish time`` is written ``MM/DD/YYYY HH:MM`` without an offset: it is read in the
account's time zone (day first when the export's headers are French). Older exports say
``Impressions`` where newer ones say ``Views`` (Meta renamed it in 2024–25): each is
stored under its own canonical name. ``Reactions, Comments and Shares`` is Meta's own
sum, kept as ``engagements`` (that is its definition for this source).
"""

from __future__ import annotations

from services.ingest.importers.base import Header, ImportContext, RowReader
from services.ingest.importers.tables import Col, PostsImporter
from shared.schemas.ingest import AccountRef, Network

_FR = (
    "identifiant de la publication",
    "heure de publication",
    "couverture",
    "vues",
    "lien permanent",
)


class FacebookPosts(PostsImporter):
    name = "meta_facebook_posts"
    label = "Meta Business Suite — Facebook posts"
    network = Network.facebook
    provider = "meta_business_suite_facebook_csv"

    signature = ("Post ID", "Page ID", "Publish time")
    alt_signatures = (
        ("Identifiant de la publication", "Identifiant de la Page", "Heure de publication"),
    )
    distinctive = (
        "Page name",
        "Permalink",
        "Post type",
        "Reactions, Comments and Shares",
        "Total clicks",
        "Caption type",
        "Is crosspost",
        "Nom de la Page",
    )
    french_markers = _FR
    id_cols = ("Post ID", "Identifiant de la publication")
    published_cols = ("Publish time", "Heure de publication")
    text_cols = ("Description",)
    title_cols = ("Title", "Titre")
    permalink_cols = ("Permalink", "Lien permanent")
    type_cols = ("Post type", "Type de publication")
    duration_cols = ("Duration (sec)", "Durée (s)", "Durée (sec)")
    metrics = (
        Col(("Views", "Vues"), "views"),
        Col(("Impressions",), "impressions"),
        Col(("Reach", "Couverture", "Portée"), "reach"),
        Col(
            ("Reactions, Comments and Shares", "Réactions, commentaires et partages"),
            "engagements",
        ),
        Col(("Reactions", "Réactions"), "reactions"),
        Col(("Comments", "Commentaires"), "comments"),
        Col(("Shares", "Partages"), "shares"),
        Col(("Total clicks", "Total des clics", "Clics (total)"), "clicks"),
        Col(("Link clicks", "Clics sur un lien"), "link_clicks"),
    )

    def bind_extra(self, header: Header, cols: dict[str, int | None]) -> None:
        cols["account_id"] = header.index("Page ID", "Identifiant de la Page")
        cols["account_name"] = header.index("Page name", "Nom de la Page")

    def row_account(
        self, r: RowReader, cols: dict[str, int | None], ctx: ImportContext
    ) -> AccountRef | None:
        ext = r.text(cols["account_id"])
        return ctx.cached_ref(self.network, ext, None, r.text(cols["account_name"]))


class InstagramPosts(PostsImporter):
    name = "meta_instagram_posts"
    label = "Meta Business Suite — Instagram posts"
    network = Network.instagram
    provider = "meta_business_suite_instagram_csv"

    signature = ("Post ID", "Account ID", "Publish time")
    alt_signatures = (
        ("Identifiant de la publication", "Identifiant du compte", "Heure de publication"),
    )
    distinctive = ("Account username", "Account name", "Saves", "Likes", "Follows", "Permalink")
    french_markers = _FR
    id_cols = ("Post ID", "Identifiant de la publication")
    published_cols = ("Publish time", "Heure de publication")
    text_cols = ("Description",)
    permalink_cols = ("Permalink", "Lien permanent")
    type_cols = ("Post type", "Type de publication")
    duration_cols = ("Duration (sec)", "Durée (s)", "Durée (sec)")
    metrics = (
        Col(("Views", "Vues"), "views"),
        Col(("Impressions",), "impressions"),
        Col(("Reach", "Couverture", "Portée"), "reach"),
        Col(("Likes", "J'aime", "Mentions J'aime"), "reactions"),
        Col(("Comments", "Commentaires"), "comments"),
        Col(("Shares", "Partages"), "shares"),
        Col(("Saves", "Enregistrements"), "saves"),
        Col(("Follows", "Abonnements"), "follows"),
        Col(("Profile visits", "Visites du profil"), "profile_visits"),
    )

    def bind_extra(self, header: Header, cols: dict[str, int | None]) -> None:
        cols["account_id"] = header.index("Account ID", "Identifiant du compte")
        cols["account_handle"] = header.index("Account username", "Nom d'utilisateur du compte")
        cols["account_name"] = header.index("Account name", "Nom du compte")

    def row_account(
        self, r: RowReader, cols: dict[str, int | None], ctx: ImportContext
    ) -> AccountRef | None:
        return ctx.cached_ref(
            self.network,
            r.text(cols["account_id"]),
            r.text(cols["account_handle"]),
            r.text(cols["account_name"]),
        )
