"""Settings of the benchmark service (environment prefix `BENCHMARK_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import WebhookSettings


class BenchmarkSettings(WebhookSettings):
    model_config = SettingsConfigDict(env_prefix="BENCHMARK_", env_file=".env", extra="ignore")

    service_name: str = Field("benchmark", description="Name used in logs and metrics.")
    port: int = Field(8002, description="Port `balise up` serves this service on.")
    web_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL of the web service, which introspects third-party API tokens.",
    )
    ingest_url: str = Field(
        "http://127.0.0.1:8001",
        description="Base URL of the ingest service, where every metric comes from.",
    )
    ingest_timeout: float = Field(
        30.0, description="Seconds to wait for ingest (bulk statistics can take a while)."
    )
    ingest_concurrency: int = Field(
        4, ge=1, le=32, description="Parallel calls to ingest when a job reads many accounts."
    )
    auth_cache_seconds: float = Field(
        10.0,
        description="How long an API token's introspection answer is cached (revocation lag).",
    )
