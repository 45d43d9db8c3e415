"""benchmark: trigram indexes for the relay directory's text search (PostgreSQL)

The search box matches any part of a relay's name, bio or handle (``LIKE '%…%'``), which
no B-tree serves: with 100,000 relays each keystroke scanned them all (~0.5 s). On
PostgreSQL, GIN indexes of pg_trgm serve these patterns. pg_trgm is a trusted extension
(PostgreSQL 13+), so a database owner can create it; where it cannot be created the
search stays correct, only slower, and the migration says so. SQLite has no trigram
index: nothing changes there.

The indexes are PostgreSQL's alone, so the models do not declare them; ``migrations/env.py``
leaves indexes named ``*_trgm`` out of ``alembic check``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:10:00
"""

import logging
from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

INDEXES = {
    "ix_benchmark_relay_name_trgm": "benchmark_relay USING gin (lower(name) gin_trgm_ops)",
    "ix_benchmark_relay_bio_trgm": "benchmark_relay USING gin (lower(bio) gin_trgm_ops)",
    "ix_benchmark_relay_account_handle_trgm": (
        "benchmark_relay_account USING gin (handle_key gin_trgm_ops)"
    ),
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - any refusal leaves the search unindexed
        log.warning("pg_trgm is not available (%s): the relay search stays unindexed", exc)
        return
    for name, target in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
