"""Settings of the ingest service (environment prefix `INGEST_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.ingest.connections.settings import ConnectionSettings


class IngestSettings(ConnectionSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", env_file=".env", extra="ignore")

    service_name: str = Field("ingest", description="Name used in logs and metrics.")
    port: int = Field(8001, description="Port `balise up` serves this service on.")
    web_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL of the web service, which introspects third-party API tokens.",
    )
    auth_cache_seconds: float = Field(
        10.0,
        description="How long an API token's introspection answer is cached (revocation lag).",
    )
    audit_cache_mb: int = Field(
        64,
        ge=0,
        description="Memory (MB) each ingest process keeps computed audits in, served again "
        "while the client's data is unchanged; 0 computes every audit afresh.",
    )

    # -- Connectors: each provider's base URL and API version (a proxy or a sandbox can
    # stand in for the public endpoint). Defaults: the public endpoints and the versions
    # the connectors and the metric catalogue were checked against.
    facebook_base_url: str = Field(
        "https://graph.facebook.com", description="Graph API root for Facebook Pages."
    )
    facebook_api_version: str = Field(
        "v27.0", description="Graph API version for Facebook Pages (path prefix)."
    )
    instagram_base_url: str = Field(
        "https://graph.facebook.com",
        description="Graph API root for Instagram (Instagram API with Facebook Login).",
    )
    instagram_api_version: str = Field(
        "v27.0", description="Graph API version for Instagram (path prefix)."
    )
    x_base_url: str = Field("https://api.x.com", description="X API root.")
    x_api_version: str = Field("2", description="X API version (path prefix, '2' for v2).")
    linkedin_base_url: str = Field(
        "https://api.linkedin.com/rest", description="LinkedIn versioned REST API root."
    )
    linkedin_api_version: str = Field(
        "202608", description="LinkedIn-Version header (YYYYMM) of the Marketing APIs."
    )
    youtube_base_url: str = Field(
        "https://www.googleapis.com/youtube", description="YouTube Data API root."
    )
    youtube_api_version: str = Field("v3", description="YouTube Data API version.")
    youtube_analytics_base_url: str = Field(
        "https://youtubeanalytics.googleapis.com", description="YouTube Analytics API root."
    )
    youtube_analytics_api_version: str = Field(
        "v2", description="YouTube Analytics API version (reports.query)."
    )
    pinterest_base_url: str = Field("https://api.pinterest.com", description="Pinterest API root.")
    pinterest_api_version: str = Field("v5", description="Pinterest API version (path prefix).")
    ga4_base_url: str = Field(
        "https://analyticsdata.googleapis.com", description="Google Analytics Data API root."
    )
    ga4_api_version: str = Field(
        "v1beta", description="Google Analytics Data API version (runReport)."
    )
    matomo_base_url: str = Field(
        "",
        description="Default Matomo root (e.g. https://stats.example.org); Matomo is "
        "self-hosted, so each connection may carry its own URL, which wins.",
    )
    matomo_api_version: str = Field(
        "5", description="Matomo major version the Reporting API calls were checked against."
    )
    plausible_base_url: str = Field(
        "https://plausible.io", description="Plausible root (or a self-hosted instance)."
    )
    plausible_api_version: str = Field("v2", description="Plausible Stats API version.")
    connector_retries: int = Field(
        3, ge=0, le=8, description="Retries of a provider call after a 5xx or a timeout."
    )
    connector_backoff_seconds: float = Field(
        0.5, gt=0, description="First backoff wait before jitter (doubles on each retry)."
    )
    connector_backoff_cap_seconds: float = Field(
        20.0, gt=0, description="Longest single backoff wait between retries."
    )
    connector_timeout_seconds: float = Field(
        30.0, gt=0, description="Timeout of one provider call (the shared client's)."
    )
    max_upload_bytes: int = Field(
        64 * 1024 * 1024,
        description="Largest export file accepted by POST /v1/clients/{id}/imports (bytes); "
        "larger files go through `balise import`.",
    )
