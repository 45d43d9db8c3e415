"""Alembic environment: one history for the four services' tables (prefixed per service)."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlmodel import SQLModel

# Every service's models, so autogenerate and `alembic check` see the whole schema.
import services.benchmark.models
import services.ingest.models
import services.planner.models
import services.web.models  # noqa: F401
from shared.settings import DEFAULT_VAR_DIR, async_url

config = context.config
target_metadata = SQLModel.metadata

PREFIXES = ("ingest_", "benchmark_", "planner_", "web_")


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "")
    if not url:
        var_dir = os.environ.get("BALISE_VAR_DIR") or str(DEFAULT_VAR_DIR)
        os.makedirs(var_dir, exist_ok=True)
        url = f"sqlite+aiosqlite:///{os.path.join(var_dir, 'balise.db')}"
    return async_url(url)


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Only Balise's own tables: a shared PostgreSQL database may hold others.
    if type_ == "table":
        return bool(name) and name.startswith(PREFIXES)
    # Trigram indexes are PostgreSQL's alone, made by migration 0003, not by the models.
    return not (type_ == "index" and reflected and bool(name) and name.endswith("_trgm"))


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        user_module_prefix="sqlmodel.sql.sqltypes.",
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection) -> None:  # type: ignore[no-untyped-def]
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = _url()
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connectable = config.attributes.get("connection")
    if connectable is None:
        asyncio.run(run_migrations_online())
    else:
        _run_sync(connectable)
