"""Tables of the planner service (all prefixed `planner_`)."""

from __future__ import annotations

from shared.jobs import JobBase


class PlannerJob(JobBase, table=True):
    __tablename__ = "planner_job"
