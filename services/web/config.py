"""Settings of the web service (environment prefix ``WEB_``)."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", env_file=".env", extra="ignore")

    service_name: str = Field("web", description="Name used in logs and metrics.")
    port: int = Field(8000, description="Port `balise up` serves the UI on.")
    ingest_url: str = Field("http://127.0.0.1:8001", description="Base URL of ingest.")
    benchmark_url: str = Field("http://127.0.0.1:8002", description="Base URL of benchmark.")
    planner_url: str = Field("http://127.0.0.1:8003", description="Base URL of planner.")
    public_url: str = Field(
        "",
        description="The address users reach Balise at (e.g. https://balise.example.org); "
        "OAuth providers send users back to <public_url>/oauth/callback. Empty: taken "
        "from each request.",
    )
    backend_timeout: float = Field(10.0, description="Timeout of one call to a backend (s).")
    cookie_secure: bool | None = Field(
        None,
        description="Mark cookies Secure; defaults to true in production, false otherwise.",
    )
    session_hours: int = Field(12, description="A web session expires after this many hours.")
    session_idle_minutes: int = Field(
        120, description="A web session expires after this long without a request."
    )
    login_max_failures: int = Field(
        5, description="Failed logins for one e-mail (or one address) before a lock-out."
    )
    login_lock_seconds: int = Field(300, description="Length of a login lock-out (s).")
    default_locale: str = Field("fr_CA", description="UI language for new visitors: fr_CA or en.")
    max_upload_bytes: int = Field(
        64 * 1024 * 1024, description="Largest file upload forwarded to ingest (bytes)."
    )

    @cached_property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment == "production"
