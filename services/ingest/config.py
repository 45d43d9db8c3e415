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
