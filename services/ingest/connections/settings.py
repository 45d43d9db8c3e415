"""Settings of ingest's connections, sync and incoming webhooks (prefix ``INGEST_``).

A mixin of :class:`services.ingest.config.IngestSettings`. Each OAuth provider has the
agency's registered app (client id and secret) and its two endpoints, overridable for a
sandbox, a proxy or the tests' stub server.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import WebhookSettings


class ConnectionSettings(WebhookSettings):
    oauth_meta_client_id: str = Field("", description="Meta OAuth app: client id.")
    oauth_meta_client_secret: SecretStr = Field(
        SecretStr(""), description="Meta OAuth app: client secret."
    )
    oauth_meta_authorize_url: str = Field(
        "", description="Meta authorization endpoint (empty: the documented one)."
    )
    oauth_meta_token_url: str = Field(
        "", description="Meta token endpoint (empty: the documented one)."
    )
    oauth_x_client_id: str = Field("", description="X OAuth app: client id.")
    oauth_x_client_secret: SecretStr = Field(
        SecretStr(""), description="X OAuth app: client secret."
    )
    oauth_x_authorize_url: str = Field(
        "", description="X authorization endpoint (empty: the documented one)."
    )
    oauth_x_token_url: str = Field("", description="X token endpoint (empty: the documented one).")
    oauth_linkedin_client_id: str = Field("", description="LinkedIn OAuth app: client id.")
    oauth_linkedin_client_secret: SecretStr = Field(
        SecretStr(""), description="LinkedIn OAuth app: client secret."
    )
    oauth_linkedin_authorize_url: str = Field(
        "", description="LinkedIn authorization endpoint (empty: the documented one)."
    )
    oauth_linkedin_token_url: str = Field(
        "", description="LinkedIn token endpoint (empty: the documented one)."
    )
    oauth_google_client_id: str = Field("", description="Google OAuth app: client id.")
    oauth_google_client_secret: SecretStr = Field(
        SecretStr(""), description="Google OAuth app: client secret."
    )
    oauth_google_authorize_url: str = Field(
        "", description="Google authorization endpoint (empty: the documented one)."
    )
    oauth_google_token_url: str = Field(
        "", description="Google token endpoint (empty: the documented one)."
    )
    oauth_pinterest_client_id: str = Field("", description="Pinterest OAuth app: client id.")
    oauth_pinterest_client_secret: SecretStr = Field(
        SecretStr(""), description="Pinterest OAuth app: client secret."
    )
    oauth_pinterest_authorize_url: str = Field(
        "", description="Pinterest authorization endpoint (empty: the documented one)."
    )
    oauth_pinterest_token_url: str = Field(
        "", description="Pinterest token endpoint (empty: the documented one)."
    )

    meta_webhook_verify_token: SecretStr = Field(
        SecretStr(""),
        description="The Verify Token entered in Meta's App Dashboard for the webhook handshake.",
    )
    oauth_state_ttl_seconds: int = Field(
        600, description="How long a started OAuth authorization may take (s)."
    )
    token_refresh_margin_seconds: int = Field(
        900, description="Refresh an access token when it expires within this many seconds."
    )
    token_refresh_ahead_days: int = Field(
        3, description="The daily job renews refreshable tokens expiring within these days."
    )
    backfill_days: int = Field(
        90, description="Days fetched when an account is connected (capped by the provider)."
    )
    daily_sync_days: int = Field(
        3, description="Days the daily sync re-fetches (late-settling metrics are corrected)."
    )
    sync_max_wait_seconds: int = Field(
        120,
        description="A rate limit lifting sooner than this is waited for; later, the sync "
        "is rescheduled.",
    )
    sync_max_waits: int = Field(3, description="Rate-limit waits allowed in one sync job.")
    push_tolerance_seconds: int = Field(
        300, description="Accepted clock difference of a signed metrics push (s)."
    )
    push_batches: int = Field(
        2,
        ge=1,
        le=16,
        description=(
            "Batches of metric pushes a process writes at once on PostgreSQL, each in its "
            "own transaction (SQLite: always 1)."
        ),
    )
