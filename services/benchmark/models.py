"""Tables of the benchmark service (all prefixed `benchmark_`).

Each domain keeps its tables in its own module; this module imports them all so that
Alembic (and ``SQLModel.metadata``) sees every one.
"""

from __future__ import annotations

from services.benchmark.peers.models import BenchmarkResultRow, Peer, PeerAccount, PeerGroup
from services.benchmark.relays.models import (
    DuplicateDismissal,
    Relay,
    RelayAccount,
    RelayHistory,
    RelayMerge,
    RelayTopic,
    Shortlist,
)
from services.benchmark.scoring.models import (
    ClientThemes,
    RelayRelevance,
    RelayScore,
    ScoringRun,
    ScoringSettings,
)
from services.benchmark.webhooks.models import (  # noqa: F401 - tables, for Alembic
    BenchmarkWebhookDelivery,
    BenchmarkWebhookSubscription,
)
from shared.jobs import JobBase, recent_jobs_index


class BenchmarkJob(JobBase, table=True):
    __tablename__ = "benchmark_job"
    __table_args__ = (recent_jobs_index("benchmark_job"),)


__all__ = [
    "BenchmarkJob",
    "BenchmarkResultRow",
    "ClientThemes",
    "DuplicateDismissal",
    "Peer",
    "PeerAccount",
    "PeerGroup",
    "Relay",
    "RelayAccount",
    "RelayHistory",
    "RelayMerge",
    "RelayRelevance",
    "RelayScore",
    "RelayTopic",
    "ScoringRun",
    "ScoringSettings",
    "Shortlist",
]
