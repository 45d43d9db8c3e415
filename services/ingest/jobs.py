"""Jobs of the ingest service and the arq `WorkerSettings` for its queue."""

from __future__ import annotations

from services.ingest.config import IngestSettings
from services.ingest.models import IngestJob
from shared.jobs import JobRegistry, arq_worker_settings

registry = JobRegistry(service="ingest", job_model=IngestJob)

# Job functions of each domain register themselves on import.
from services.ingest.sync import jobs as sync_jobs  # noqa: E402
from services.ingest.webhooks.events import outbox  # noqa: E402
from shared.outbox_dispatch import register_dispatcher  # noqa: E402

register_dispatcher(registry, outbox)
sync_jobs.register(registry)


def worker_settings() -> type:
    return arq_worker_settings(registry, IngestSettings)


# Domain modules register their job functions on import (kept last: they import registry).
from services.ingest.audit import report as _audit_report  # noqa: E402, F401
from services.ingest.imports import jobs as _imports_jobs  # noqa: E402, F401
