"""Outgoing webhooks for every backend: subscriptions, the outbox, and ``emit``.

Each backend declares its own two tables from the mixins below (``<svc>_webhook_subscription``
and ``<svc>_webhook_delivery``) and one :class:`Outbox` naming them with the events it
sends::

    class IngestWebhookSubscription(WebhookSubscriptionBase, table=True):
        __tablename__ = "ingest_webhook_subscription"

    class IngestWebhookDelivery(WebhookDeliveryBase, table=True):
        __tablename__ = "ingest_webhook_delivery"
        __table_args__ = delivery_table_args("ingest")
        subscription_id: int = Field(foreign_key="ingest_webhook_subscription.id",
                                     ondelete="CASCADE", index=True)

    outbox = Outbox("ingest", IngestWebhookSubscription, IngestWebhookDelivery, EVENTS)

``await outbox.emit(session, client_id, "ingest.sync.completed", data)`` writes one delivery
row per matching subscription *in the caller's transaction* (the outbox pattern): when the
request or job rolls back, nothing is sent; once it commits, the dispatcher
(:mod:`shared.outbox_dispatch`, a job plus a cron every few seconds) sends the rows that
are due. Each message is signed per Standard Webhooks; its ``webhook-id`` (``msg_id``) is
fixed when it is emitted and is the same on every retry, so a receiver can de-duplicate.
Failed attempts are retried on :data:`RETRY_SCHEDULE` (about a day); when a message has
failed its whole schedule with no success in between, the subscription is disabled and the
reason recorded for the agency. Secrets (``whsec_…``) are stored encrypted.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.clock import utcnow
from shared.schemas.webhooks import (
    PING_EVENT,
    DeliveryAttempt,
    DeliveryPublic,
    EventTypePublic,
    SubscriptionPublic,
)

#: Delay before each retry, after the previous attempt (the first attempt is immediate).
#: 8 attempts over 23 h 35 min, in the spirit of the Standard Webhooks reference
#: implementations; a small positive jitter spreads retries of many messages.
RETRY_SCHEDULE: tuple[dt.timedelta, ...] = (
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=8),
    dt.timedelta(hours=8),
)
JITTER = 0.1  # up to +10 % of the delay


class DeliveryStatus:
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"  # gave up (schedule exhausted, subscription disabled or deleted)


class WebhookSubscriptionBase(SQLModel):
    """Columns of ``<svc>_webhook_subscription``. Subclass with ``table=True``."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=300)
    event_types: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    secret_encrypted: str = Field(sa_type=Text, description="whsec_ secret, Fernet-encrypted")
    enabled: bool = True
    disabled_at: dt.datetime | None = None
    disabled_reason: str | None = Field(default=None, max_length=1000)
    failing_since: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_failure_at: dt.datetime | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


class WebhookDeliveryBase(SQLModel):
    """Columns of ``<svc>_webhook_delivery`` but ``subscription_id`` (its FK is per table)."""

    id: int | None = Field(default=None, primary_key=True)
    msg_id: str = Field(max_length=64, description="webhook-id, the same on every retry")
    client_id: int = Field(index=True)
    event_type: str = Field(max_length=80)
    payload: str = Field(sa_type=Text, description="the exact JSON body, sent byte for byte")
    status: str = Field(default=DeliveryStatus.pending, max_length=16)
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    lease_until: dt.datetime | None = None
    first_attempt_at: dt.datetime | None = None
    last_attempt_at: dt.datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    log: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    delivered_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


def delivery_table_args(service: str) -> tuple[Any, ...]:
    """Constraints of a delivery table: one row per (subscription, message), due index."""
    table = f"{service}_webhook_delivery"
    return (
        UniqueConstraint("subscription_id", "msg_id", name=f"uq_{table}_msg"),
        Index(f"ix_{table}_due", "status", "next_attempt_at"),
    )


@dataclass(frozen=True)
class EventType:
    """An event a service sends: its name (``<svc>.<noun>.<verb>``), meaning and example."""

    name: str
    description: str
    example: dict[str, Any] = field(default_factory=dict)


PING = EventType(
    PING_EVENT,
    "A test message sent on request from the subscription page or API.",
    {"subscription_id": 1, "message": "Test message from Balise."},
)


def new_msg_id() -> str:
    return "msg_" + uuid.uuid4().hex


def encode_payload(event_type: str, data: dict[str, Any], at: dt.datetime) -> str:
    """The body of a message, per Standard Webhooks' recommended ``type/timestamp/data``."""
    body = {
        "type": event_type,
        "timestamp": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


class Outbox:
    """A backend's webhook tables and events; ``emit`` and the queries on them."""

    def __init__(
        self,
        service: str,
        subscription_model: type[WebhookSubscriptionBase],
        delivery_model: type[WebhookDeliveryBase],
        events: Sequence[EventType],
        *,
        schedule: Sequence[dt.timedelta] = RETRY_SCHEDULE,
    ) -> None:
        self.service = service
        self.Subscription = subscription_model
        self.Delivery = delivery_model
        self.events: dict[str, EventType] = {e.name: e for e in events}
        self.events.setdefault(PING.name, PING)
        self.schedule = tuple(schedule)

    def __repr__(self) -> str:
        return f"Outbox({self.service!r})"

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.schedule)

    # ------------------------------------------------------------------ emitting

    async def emit(
        self,
        session: AsyncSession,
        client_id: int,
        event_type: str,
        data: dict[str, Any],
        *,
        subscription_id: int | None = None,
    ) -> list[WebhookDeliveryBase]:
        """Queue ``event_type`` for every enabled subscription of ``client_id`` to it.

        The rows join the caller's transaction: they are sent only if it commits. One
        ``msg_id`` is shared by the copies sent to different subscriptions of the event.
        ``subscription_id`` restricts the message to one subscription (test pings).
        """
        if event_type not in self.events:
            raise ValueError(f"{self.service} does not declare the event {event_type!r}")
        S = self.Subscription
        q = select(S).where(col(S.client_id) == client_id, col(S.enabled).is_(True))
        if subscription_id is not None:
            q = q.where(col(S.id) == subscription_id)
        subs = [
            s
            for s in (await session.exec(q)).all()
            if event_type == PING_EVENT or event_type in (s.event_types or [])
        ]
        if not subs:
            return []
        now = utcnow()
        msg_id = new_msg_id()
        payload = encode_payload(event_type, data, now)
        rows = []
        for sub in subs:
            row = self.Delivery(
                msg_id=msg_id,
                client_id=client_id,
                event_type=event_type,
                payload=payload,
                status=DeliveryStatus.pending,
                next_attempt_at=now,
                created_at=now,
            )
            row.subscription_id = sub.id
            session.add(row)
            rows.append(row)
        await session.flush()
        return rows

    async def purge(self, session: AsyncSession, before: dt.datetime) -> int:
        """Forget finished deliveries created before ``before`` (pending ones are kept)."""
        from sqlalchemy import delete

        D = self.Delivery
        res = await session.exec(
            delete(D).where(col(D.status) != DeliveryStatus.pending, col(D.created_at) < before)
        )
        return int(res.rowcount or 0)

    # ------------------------------------------------------------------ reading

    async def subscriptions(
        self, session: AsyncSession, client_id: int
    ) -> Sequence[WebhookSubscriptionBase]:
        S = self.Subscription
        q = select(S).where(col(S.client_id) == client_id).order_by(col(S.id))
        return (await session.exec(q)).all()

    async def pending_counts(self, session: AsyncSession, sub_ids: Sequence[int]) -> dict[int, int]:
        if not sub_ids:
            return {}
        from sqlalchemy import func

        D = self.Delivery
        sid = D.subscription_id  # type: ignore[attr-defined]
        q = (
            select(sid, func.count())
            .where(col(sid).in_(list(sub_ids)), col(D.status) == DeliveryStatus.pending)
            .group_by(sid)
        )
        return {int(k): int(v) for k, v in (await session.exec(q)).all()}

    def public(self, sub: WebhookSubscriptionBase, pending: int = 0) -> SubscriptionPublic:
        assert sub.id is not None
        return SubscriptionPublic(
            id=sub.id,
            service=self.service,
            client_id=sub.client_id,
            url=sub.url,
            description=sub.description,
            event_types=list(sub.event_types or []),
            enabled=sub.enabled,
            disabled_at=sub.disabled_at,
            disabled_reason=sub.disabled_reason,
            failing_since=sub.failing_since,
            last_success_at=sub.last_success_at,
            last_failure_at=sub.last_failure_at,
            pending=pending,
            created_at=sub.created_at,
        )

    @staticmethod
    def delivery_public(d: WebhookDeliveryBase) -> DeliveryPublic:
        assert d.id is not None
        try:
            payload = json.loads(d.payload)
        except ValueError:  # pragma: no cover - we wrote it
            payload = {}
        return DeliveryPublic(
            id=d.id,
            subscription_id=d.subscription_id,  # type: ignore[attr-defined]
            msg_id=d.msg_id,
            event_type=d.event_type,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.pending else None,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            delivered_at=d.delivered_at,
            created_at=d.created_at,
            payload=payload,
            log=[DeliveryAttempt.model_validate(a) for a in d.log or []],
        )

    def event_catalogue(self) -> list[EventTypePublic]:
        return [
            EventTypePublic(name=e.name, description=e.description, example=e.example)
            for e in self.events.values()
        ]
