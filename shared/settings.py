"""Settings shared by the four services.

Every service has one settings class deriving from :class:`ServiceSettings`, with its own
environment prefix (``INGEST_``, ``BENCHMARK_``, ``PLANNER_``, ``WEB_``). A few variables are
deliberately un-prefixed because every process of a deployment must agree on them
(``DATABASE_URL``, ``REDIS_URL``, ``BALISE_SECRET_KEY``, ``BALISE_ENV``); a prefixed variable
overrides the shared one for a single service.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


#: Variables every process of a deployment shares, by field name. A prefixed variable
#: (``INGEST_DATABASE_URL``) still wins over the shared one for its own service.
SHARED_ENV = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "secret_key": "BALISE_SECRET_KEY",
    "log_level": "LOG_LEVEL",
    "log_json": "LOG_JSON",
    "encryption_key": "BALISE_ENCRYPTION_KEY",
}


class SharedEnvSource(PydanticBaseSettingsSource):
    """Reads the un-prefixed shared variables listed in :data:`SHARED_ENV`."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        env = SHARED_ENV.get(field_name)
        if env and env in os.environ:
            return os.environ[env], field_name, False
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, env in SHARED_ENV.items():
            if name in self.settings_cls.model_fields and env in os.environ:
                out[name] = os.environ[env]
        return out


def dev_secret(var_dir: Path, name: str) -> str:
    """A development secret kept in ``var/`` so restarts and processes agree on it.

    Only used when ``BALISE_ENV`` is not ``production``; production refuses to start without
    explicit secrets (see :meth:`ServiceSettings.check_production`).
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f".{name}"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


class ServiceSettings(BaseSettings):
    """Base of every service's settings. Subclasses set ``model_config['env_prefix']``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    service_name: str = Field("balise", description="Name used in logs and metrics.")
    environment: Literal["development", "test", "production"] = Field(
        "development",
        validation_alias=AliasChoices("BALISE_ENV"),
        description="development, test or production; production demands explicit secrets.",
    )
    var_dir: Path = Field(
        DEFAULT_VAR_DIR,
        validation_alias=AliasChoices("BALISE_VAR_DIR"),
        description="Directory for the SQLite database, development secrets and uploads.",
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy URL. Empty means SQLite in WAL mode at var/balise.db; "
            "postgresql://… selects asyncpg."
        ),
    )
    redis_url: str = Field(
        "",
        description="redis://… enables arq workers; empty runs jobs in-process.",
    )
    secret_key: SecretStr = Field(
        SecretStr(""),
        description=(
            "Signs service tokens and web sessions; all services must share it. "
            "Generated into var/ in development when empty."
        ),
    )
    log_level: str = Field("INFO", description="Python log level.")
    log_json: bool = Field(True, description="Write logs as JSON lines.")
    max_body_bytes: int = Field(
        10 * 1024 * 1024, description="Largest JSON request body accepted (bytes); larger gets 413."
    )
    sqlite_busy_timeout_ms: int = Field(
        10_000, description="How long SQLite waits on a locked database before failing (ms)."
    )
    db_pool_size: int = Field(10, description="Connection pool size (PostgreSQL).")
    db_hot_pool_size: int = Field(
        5,
        description=(
            "Connections of the small pool that serves the hottest reads (the session "
            "lookup, the job lists) apart from the main one (PostgreSQL; opened on demand)."
        ),
    )
    db_pool_overflow: int = Field(
        0,
        description=(
            "Extra connections a burst may open beyond the pool (PostgreSQL). Each is "
            "closed after use, so under sustained load they are opened again and again "
            "(a new server process each time): the default queues for the pool instead."
        ),
    )
    check_schema_on_start: bool = Field(
        True, description="Refuse to start when the database schema is not at the code's head."
    )
    gc_freeze: bool = Field(
        True,
        description=(
            "Once started, hide the objects built at startup from the cycle collector and "
            "collect the youngest generation less often (see shared.app.settle_heap)."
        ),
    )
    job_heartbeat_seconds: float = Field(
        10.0, gt=0, description="How often a running job proves its worker is alive."
    )
    job_stale_after_seconds: float = Field(
        90.0,
        gt=0,
        description=(
            "A running job with no heartbeat for this long lost its worker (killed, host "
            "down): it is marked failed and retryable. Keep it several heartbeats long."
        ),
    )
    run_jobs_in_process: bool = Field(
        True,
        description=(
            "Without REDIS_URL, run jobs in a background runner inside the service process."
        ),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            SharedEnvSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @field_validator("database_url", mode="before")
    @classmethod
    def _strip(cls, v: str) -> str:
        return (v or "").strip()

    def __init__(self, **data):
        super().__init__(**data)
        if not self.database_url:
            self.var_dir.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'balise.db'}"
        if not self.secret_key.get_secret_value():
            if self.environment == "production":
                raise ValueError("BALISE_SECRET_KEY must be set in production")
            self.secret_key = SecretStr(dev_secret(self.var_dir, "secret_key"))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def async_database_url(self) -> str:
        return async_url(self.database_url)


def async_url(url: str) -> str:
    """Map a plain database URL onto the async driver Balise uses for it."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg2://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


class EncryptionSettings(ServiceSettings):
    """Settings of a service that keeps secrets at rest (tokens, keys, webhook secrets).

    The key comes from ``<PREFIX>_ENCRYPTION_KEY`` or the shared ``BALISE_ENCRYPTION_KEY``
    (a Fernet key; several comma-separated keys rotate: the first encrypts, all decrypt).
    Development generates one into ``var/``; production refuses to start without it.
    """

    encryption_key: SecretStr = Field(
        SecretStr(""),
        description=(
            "Fernet key(s) encrypting stored secrets (OAuth tokens, service-account keys, "
            "webhook secrets), comma-separated for rotation, newest first. Required in "
            "production; generated into var/ in development."
        ),
    )

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        if not self.encryption_key.get_secret_value().strip():
            if self.environment == "production":
                raise ValueError(
                    f"{(self.model_config.get('env_prefix') or 'BALISE_')}ENCRYPTION_KEY "
                    "(or BALISE_ENCRYPTION_KEY) must be set in production"
                )
            from shared.crypto import dev_encryption_key

            self.encryption_key = SecretStr(dev_encryption_key(self.var_dir))
        from shared.crypto import box

        # Fail at start, not at the first token: a malformed key is a configuration error.
        box(self.encryption_key.get_secret_value())


class WebhookSettings(EncryptionSettings):
    """Settings of a backend that sends outgoing webhooks (see :mod:`shared.outbox`)."""

    webhook_timeout_seconds: float = Field(
        10.0, description="How long one webhook delivery attempt may take (s)."
    )
    webhook_allow_private_targets: bool | None = Field(
        None,
        description=(
            "Allow webhook target URLs that resolve to private, loopback or link-local "
            "addresses. Empty: allowed in development and test, refused in production."
        ),
    )
    webhook_dispatch_batch: int = Field(
        50, description="Deliveries claimed by one pass of the webhook dispatcher."
    )
    webhook_log_days: int = Field(
        30, description="Days the delivery log keeps sent and abandoned deliveries."
    )

    @property
    def webhooks_allow_private(self) -> bool:
        if self.webhook_allow_private_targets is not None:
            return self.webhook_allow_private_targets
        return self.environment != "production"
