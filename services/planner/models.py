"""Tables of the planner service (all prefixed `planner_`)."""

from __future__ import annotations

from services.planner.calendar.models import CalendarItem, FeedToken
from services.planner.plans.models import Plan, PlanVersion
from services.planner.tracking.models import KpiState, PlanExport
from services.planner.webhooks.models import (  # noqa: F401 - tables, for Alembic
    PlannerWebhookDelivery,
    PlannerWebhookSubscription,
)
from shared.jobs import JobBase, recent_jobs_index


class PlannerJob(JobBase, table=True):
    __tablename__ = "planner_job"
    __table_args__ = (recent_jobs_index("planner_job"),)


__all__ = [
    "CalendarItem",
    "FeedToken",
    "KpiState",
    "Plan",
    "PlanExport",
    "PlanVersion",
    "PlannerJob",
]
