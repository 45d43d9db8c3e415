"""How each network is connected: its OAuth provider, endpoints, scopes and quirks.

The endpoints are the providers' documented ones; each is a setting
(``INGEST_OAUTH_<PROVIDER>_AUTHORIZE_URL`` / ``_TOKEN_URL``) so a sandbox, a proxy or the
tests' local stub server can stand in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.schemas.connections import AuthKind
from shared.schemas.ingest import Network


@dataclass(frozen=True)
class OAuthProvider:
    """An authorization server and how to talk to it."""

    name: str
    authorize_url: str
    token_url: str
    auth_method: str  # client_secret_basic or client_secret_post
    pkce: bool = False
    scope_separator: str = " "
    extra_authorize_params: dict[str, str] = field(default_factory=dict)
    # "refresh_token" (RFC 6749 §6) or None when the provider has no refresh (Meta: a
    # 60-day long-lived token obtained by exchange; reconnect before it ends).
    refresh: str | None = "refresh_token"
    rotates_refresh_token: bool = False
    long_lived_exchange: bool = False  # Meta's fb_exchange_token after the code exchange


PROVIDERS: dict[str, OAuthProvider] = {
    p.name: p
    for p in (
        OAuthProvider(
            "meta",
            "https://www.facebook.com/v23.0/dialog/oauth",
            "https://graph.facebook.com/v23.0/oauth/access_token",
            auth_method="client_secret_post",
            scope_separator=",",
            refresh=None,
            long_lived_exchange=True,
        ),
        OAuthProvider(
            "x",
            "https://x.com/i/oauth2/authorize",
            "https://api.x.com/2/oauth2/token",
            auth_method="client_secret_basic",
            pkce=True,
            rotates_refresh_token=True,
        ),
        OAuthProvider(
            "linkedin",
            "https://www.linkedin.com/oauth/v2/authorization",
            "https://www.linkedin.com/oauth/v2/accessToken",
            auth_method="client_secret_post",
        ),
        OAuthProvider(
            "google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            auth_method="client_secret_post",
            pkce=True,
            # offline + consent: Google returns a refresh token only when asked this way.
            extra_authorize_params={
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
            },
        ),
        OAuthProvider(
            "pinterest",
            "https://www.pinterest.com/oauth/",
            "https://api.pinterest.com/v5/oauth/token",
            auth_method="client_secret_basic",
            scope_separator=",",
            rotates_refresh_token=True,
        ),
    )
}


@dataclass(frozen=True)
class NetworkSpec:
    network: Network
    provider: str
    auth_kinds: tuple[AuthKind, ...]
    scopes: tuple[str, ...] = ()
    # What the agency enters to pick the account; None: the token identifies it.
    external_id_label: str | None = None
    # Connector-facing name of the account id in ``Credentials.extra``.
    id_key: str = "account_id"
    extra_fields: tuple[str, ...] = ()


NETWORKS: dict[Network, NetworkSpec] = {
    s.network: s
    for s in (
        NetworkSpec(
            Network.facebook,
            "meta",
            (AuthKind.oauth, AuthKind.token),
            ("pages_show_list", "pages_read_engagement", "read_insights"),
            external_id_label="Facebook Page id",
            id_key="page_id",
        ),
        NetworkSpec(
            Network.instagram,
            "meta",
            (AuthKind.oauth, AuthKind.token),
            (
                "instagram_basic",
                "instagram_manage_insights",
                "pages_show_list",
                "pages_read_engagement",
            ),
            external_id_label="Instagram professional account id",
            id_key="ig_user_id",
        ),
        NetworkSpec(
            Network.x,
            "x",
            (AuthKind.oauth, AuthKind.token),
            ("tweet.read", "users.read", "offline.access"),
            id_key="user_id",
        ),
        NetworkSpec(
            Network.linkedin,
            "linkedin",
            (AuthKind.oauth, AuthKind.token),
            ("r_organization_social", "rw_organization_admin"),
            external_id_label="LinkedIn organization id",
            id_key="organization_id",
        ),
        NetworkSpec(
            Network.youtube,
            "google",
            (AuthKind.oauth,),
            (
                "https://www.googleapis.com/auth/youtube.readonly",
                "https://www.googleapis.com/auth/yt-analytics.readonly",
            ),
            id_key="channel_id",
        ),
        NetworkSpec(
            Network.pinterest,
            "pinterest",
            (AuthKind.oauth, AuthKind.token),
            ("user_accounts:read", "pins:read", "boards:read"),
            id_key="user_id",
        ),
        NetworkSpec(
            Network.ga4,
            "google",
            (AuthKind.oauth, AuthKind.service_account),
            ("https://www.googleapis.com/auth/analytics.readonly",),
            external_id_label="GA4 property id",
            id_key="property_id",
        ),
        NetworkSpec(
            Network.matomo,
            "matomo",
            (AuthKind.token,),
            external_id_label="Matomo site id",
            id_key="site_id",
            extra_fields=("base_url",),
        ),
        NetworkSpec(
            Network.plausible,
            "plausible",
            (AuthKind.token,),
            external_id_label="Plausible site domain",
            id_key="site_id",
            extra_fields=("base_url",),
        ),
    )
}


def spec(network: Network | str) -> NetworkSpec:
    from shared.errors import Invalid

    try:
        return NETWORKS[Network(network)]
    except (KeyError, ValueError) as exc:
        raise Invalid(f"Balise cannot connect to {network!r} through an API.") from exc


def oauth_provider(name: str) -> OAuthProvider:
    return PROVIDERS[name]


@dataclass(frozen=True)
class OAuthApp:
    """The agency's registered app at a provider, and the endpoints to use (settings)."""

    provider: OAuthProvider
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


def oauth_app(settings: Any, name: str) -> OAuthApp:
    p = PROVIDERS[name]
    secret = getattr(settings, f"oauth_{name}_client_secret")
    return OAuthApp(
        provider=p,
        client_id=getattr(settings, f"oauth_{name}_client_id") or "",
        client_secret=secret.get_secret_value() if secret else "",
        authorize_url=getattr(settings, f"oauth_{name}_authorize_url") or p.authorize_url,
        token_url=getattr(settings, f"oauth_{name}_token_url") or p.token_url,
    )
