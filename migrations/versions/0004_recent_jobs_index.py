"""jobs: each job table indexed by (client, created) instead of client alone

The job lists read a client's latest jobs (``ORDER BY created_at DESC LIMIT n``):
with the client alone indexed, every job of the client was fetched and sorted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 19:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ingest_job", "benchmark_job", "planner_job")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_client_created", table, ["client_id", "created_at"])
        op.drop_index(f"ix_{table}_client_id", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_client_id", table, ["client_id"])
        op.drop_index(f"ix_{table}_client_created", table_name=table)
