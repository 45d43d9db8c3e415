"""Settings of the planner service (environment prefix `PLANNER_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import WebhookSettings


class PlannerSettings(WebhookSettings):
    model_config = SettingsConfigDict(env_prefix="PLANNER_", env_file=".env", extra="ignore")

    service_name: str = Field("planner", description="Name used in logs and metrics.")
    port: int = Field(8003, description="Port `balise up` serves this service on.")
    web_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL of the web service, which introspects third-party API tokens.",
    )
    ingest_url: str = Field(
        "http://127.0.0.1:8001", description="Base URL of ingest (baselines, account stats)."
    )
    benchmark_url: str = Field(
        "http://127.0.0.1:8002",
        description="Base URL of benchmark (peer distributions, co-creator candidates).",
    )
    backend_timeout: float = Field(10.0, description="Timeout of one call to a backend (s).")
    auth_cache_seconds: float = Field(
        10.0,
        description="How long an API token's introspection answer is cached (revocation lag).",
    )
    kpi_check_hour: int = Field(
        6, description="UTC hour of the daily plan-versus-actual check of active plans."
    )
