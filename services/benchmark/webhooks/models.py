"""Tables of benchmark's outgoing webhooks (see :mod:`shared.outbox`)."""

from __future__ import annotations

from sqlmodel import Field

from shared.outbox import WebhookDeliveryBase, WebhookSubscriptionBase, delivery_table_args


class BenchmarkWebhookSubscription(WebhookSubscriptionBase, table=True):
    __tablename__ = "benchmark_webhook_subscription"


class BenchmarkWebhookDelivery(WebhookDeliveryBase, table=True):
    __tablename__ = "benchmark_webhook_delivery"
    __table_args__ = delivery_table_args("benchmark")

    subscription_id: int = Field(
        foreign_key="benchmark_webhook_subscription.id", ondelete="CASCADE", index=True
    )
