"""Tables of the planner's outgoing webhooks (see :mod:`shared.outbox`)."""

from __future__ import annotations

from sqlmodel import Field

from shared.outbox import WebhookDeliveryBase, WebhookSubscriptionBase, delivery_table_args


class PlannerWebhookSubscription(WebhookSubscriptionBase, table=True):
    __tablename__ = "planner_webhook_subscription"


class PlannerWebhookDelivery(WebhookDeliveryBase, table=True):
    __tablename__ = "planner_webhook_delivery"
    __table_args__ = delivery_table_args("planner")

    subscription_id: int = Field(
        foreign_key="planner_webhook_subscription.id", ondelete="CASCADE", index=True
    )
