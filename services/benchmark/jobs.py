"""Jobs of the benchmark service and the arq `WorkerSettings` for its queue.

Job functions live in their domain (``peers/jobs.py``, ``scoring/jobs.py``) and register
themselves on :data:`registry`; this module imports them so that a worker knows them all.
The job context carries an ingest client (``ctx["ingest"]``) built at startup.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.benchmark.config import BenchmarkSettings
from services.benchmark.models import BenchmarkJob
from shared.jobs import JobRegistry, arq_worker_settings


async def _startup(ctx: dict[str, Any]) -> None:
    from services.benchmark.clients.ingest import IngestClient
    from services.benchmark.scoring import kernels

    settings: BenchmarkSettings = ctx["settings"]
    if "ingest" not in ctx:
        ctx["ingest"] = IngestClient(settings.ingest_url, timeout=settings.ingest_timeout)
    # Compile the scoring kernels (or load them from the disk cache) before the first run.
    await asyncio.to_thread(kernels.warm_up)


async def _shutdown(ctx: dict[str, Any]) -> None:
    client = ctx.pop("ingest", None)
    if client is not None:
        await client.aclose()


registry = JobRegistry(
    service="benchmark", job_model=BenchmarkJob, startup=_startup, shutdown=_shutdown
)

from services.benchmark.peers import jobs as _peer_jobs  # noqa: E402  (registers its jobs)
from services.benchmark.scoring import jobs as _scoring_jobs  # noqa: E402
from services.benchmark.webhooks.events import outbox  # noqa: E402
from shared.outbox_dispatch import register_dispatcher  # noqa: E402

register_dispatcher(registry, outbox)

__all__ = ["_peer_jobs", "_scoring_jobs", "registry", "worker_settings"]


def worker_settings() -> type:
    return arq_worker_settings(registry, BenchmarkSettings)
