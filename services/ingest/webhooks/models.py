"""Tables of ingest's webhooks: outgoing subscriptions and deliveries, push secrets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.clock import utcnow
from shared.outbox import WebhookDeliveryBase, WebhookSubscriptionBase, delivery_table_args


class IngestWebhookSubscription(WebhookSubscriptionBase, table=True):
    __tablename__ = "ingest_webhook_subscription"


class IngestWebhookDelivery(WebhookDeliveryBase, table=True):
    __tablename__ = "ingest_webhook_delivery"
    __table_args__ = delivery_table_args("ingest")

    subscription_id: int = Field(
        foreign_key="ingest_webhook_subscription.id", ondelete="CASCADE", index=True
    )


class PushSecret(SQLModel, table=True):
    """A client's secret for the signed metrics push endpoint (Standard Webhooks)."""

    __tablename__ = "ingest_push_secret"

    client_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    secret_encrypted: str = Field(sa_type=Text)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


class PushMessage(SQLModel, table=True):
    """``webhook-id`` values already accepted, so a replayed message is refused."""

    __tablename__ = "ingest_push_message"
    __table_args__ = (UniqueConstraint("client_id", "msg_id", name="uq_ingest_push_message"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(index=True)
    msg_id: str = Field(max_length=200)
    received_at: dt.datetime = Field(default_factory=utcnow, index=True)
