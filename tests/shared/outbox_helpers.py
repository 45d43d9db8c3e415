"""Helpers for the outbox tests: a settable clock and a dispatcher on the test transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.webhooks.models import IngestWebhookDelivery
from shared.clock import utcnow
from shared.outbox import Outbox
from shared.outbox_dispatch import Dispatcher


class FakeClock:
    """The dispatcher's notion of now; the receiver still checks real time."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


def tx_sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions inside the test's transaction (each commit is a savepoint)."""
    return async_sessionmaker(
        bind=connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


def dispatcher(
    outbox: Outbox, connection: AsyncConnection, settings: Any, clock: FakeClock
) -> Dispatcher:
    # One connection carries the whole test: deliveries go one at a time.
    return Dispatcher(outbox, tx_sessionmaker(connection), settings, clock=clock, concurrency=1)


async def delivery_rows(db: AsyncSession, cid: int) -> list[IngestWebhookDelivery]:
    """A client's ingest webhook deliveries in creation order, refreshed from the database."""
    rows = (
        await db.exec(
            select(IngestWebhookDelivery)
            .where(col(IngestWebhookDelivery.client_id) == cid)
            .order_by(col(IngestWebhookDelivery.id))
        )
    ).all()
    for r in rows:
        await db.refresh(r)
    return list(rows)
