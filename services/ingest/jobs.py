"""Jobs of the ingest service and the arq `WorkerSettings` for its queue."""

from __future__ import annotations

from services.ingest.config import IngestSettings
from services.ingest.models import IngestJob
from shared.jobs import JobRegistry, arq_worker_settings

registry = JobRegistry(service="ingest", job_model=IngestJob)


def worker_settings() -> type:
    return arq_worker_settings(registry, IngestSettings)


# Domain modules register their job functions on import (kept last: they import registry).
from services.ingest.audit import report as _audit_report  # noqa: E402, F401
from services.ingest.imports import jobs as _imports_jobs  # noqa: E402, F401
