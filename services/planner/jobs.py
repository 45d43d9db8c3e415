"""Jobs of the planner service and the arq `WorkerSettings` for its queue."""

from __future__ import annotations

from services.planner.config import PlannerSettings
from services.planner.models import PlannerJob
from services.planner.tracking import jobs as tracking_jobs
from shared.jobs import JobRegistry, arq_worker_settings

registry = JobRegistry(service="planner", job_model=PlannerJob)
tracking_jobs.register(registry)

from services.planner.webhooks.events import outbox  # noqa: E402
from shared.outbox_dispatch import register_dispatcher  # noqa: E402

register_dispatcher(registry, outbox)


def worker_settings() -> type:
    return arq_worker_settings(registry, PlannerSettings)
