"""Typed client of the planner backend."""

from __future__ import annotations

from services.web.clients import ServiceClient


class PlannerClient(ServiceClient):
    service = "planner"
