"""Jobs of the benchmark service and the arq `WorkerSettings` for its queue."""

from __future__ import annotations

from services.benchmark.config import BenchmarkSettings
from services.benchmark.models import BenchmarkJob
from shared.jobs import JobRegistry, arq_worker_settings

registry = JobRegistry(service="benchmark", job_model=BenchmarkJob)


def worker_settings() -> type:
    return arq_worker_settings(registry, BenchmarkSettings)
