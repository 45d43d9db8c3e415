"""The events benchmark sends to webhook subscribers, and its outbox."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.benchmark.webhooks.models import (
    BenchmarkWebhookDelivery,
    BenchmarkWebhookSubscription,
)
from shared.outbox import EventType, Outbox

SCORES_UPDATED = "benchmark.scores.updated"

EVENTS = (
    EventType(
        SCORES_UPDATED,
        "The relay directory was rescored (a new versioned scoring run): reach, resonance, "
        "authenticity, activity and each client's relevance were recomputed.",
        {
            "run_id": 12,
            "relays": 60,
            "settings_version": 3,
            "as_of": "2026-11-26",
            "reason": "weights changed",
        },
    ),
)

outbox = Outbox("benchmark", BenchmarkWebhookSubscription, BenchmarkWebhookDelivery, EVENTS)


async def announce_scores_updated(session: AsyncSession, data: dict[str, Any]) -> int:
    """Queue ``benchmark.scores.updated`` for every client subscribed to it.

    The directory is agency-wide, so a rescoring concerns every client that asked to be
    told; returns how many clients the event was queued for.
    """
    S = BenchmarkWebhookSubscription
    rows = await session.exec(select(S).where(col(S.enabled).is_(True)))
    clients = sorted({s.client_id for s in rows if SCORES_UPDATED in (s.event_types or [])})
    for client_id in clients:
        await outbox.emit(session, client_id, SCORES_UPDATED, data)
    return len(clients)
