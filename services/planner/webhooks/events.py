"""The events the planner sends to webhook subscribers, and its outbox."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.webhooks.models import PlannerWebhookDelivery, PlannerWebhookSubscription
from shared.outbox import EventType, Outbox

KPI_AT_RISK = "planner.kpi.at_risk"

EVENTS = (
    EventType(
        KPI_AT_RISK,
        "A KPI of an active plan left its trajectory: the daily plan-versus-actual check "
        "judged it at risk or off track after it was on track (or had no status). Sent "
        "once per change, not every day it stays behind.",
        {
            "client_id": 7,
            "plan_id": 3,
            "version_id": 5,
            "objective_id": "obj_1a2b3c",
            "kpi": "followers",
            "network": "instagram",
            "status": "at_risk",
            "baseline": 4000.0,
            "target": 5000.0,
            "expected": 4500.0,
            "actual": 4380.0,
            "as_of": "2026-07-01",
        },
    ),
)

outbox = Outbox("planner", PlannerWebhookSubscription, PlannerWebhookDelivery, EVENTS)


async def announce_at_risk(session: AsyncSession, client_id: int, data: dict[str, Any]) -> int:
    """Queue ``planner.kpi.at_risk`` for the client's subscriptions, in the caller's
    transaction; returns how many deliveries were queued."""
    return len(await outbox.emit(session, client_id, KPI_AT_RISK, data))
