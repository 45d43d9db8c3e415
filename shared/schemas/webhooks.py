"""Contracts of the outgoing-webhook API every backend mounts (``/v1/webhooks``).

Shared by the backends (:mod:`shared.outbox_api`) and web's clients
(``services/web/clients/webhooks.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

PING_EVENT = "webhook.ping"


class EventTypePublic(BaseModel):
    """One event a service can send, with an example of its ``data``."""

    name: str
    description: str
    example: dict[str, Any] = Field(default_factory=dict)


class EventCatalogue(BaseModel):
    service: str
    events: list[EventTypePublic]


class SubscriptionCreate(BaseModel):
    client_id: int
    url: str = Field(
        min_length=8,
        max_length=2000,
        description="https:// (or http://) URL receiving POSTs signed per Standard Webhooks.",
    )
    event_types: list[str] = Field(
        min_length=1, max_length=50, description="Events to receive (see /v1/webhooks/events)."
    )
    description: str = Field(default="", max_length=300)


class SubscriptionPublic(BaseModel):
    id: int
    service: str
    client_id: int
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_at: dt.datetime | None = Field(
        description="When the subscription was disabled (after about a day of failures)."
    )
    disabled_reason: str | None = Field(description="Why it was disabled, for the agency.")
    failing_since: dt.datetime | None = Field(
        description="First failed attempt since the last success; None while healthy."
    )
    last_success_at: dt.datetime | None
    last_failure_at: dt.datetime | None
    pending: int = Field(0, description="Deliveries waiting for their next attempt.")
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionPublic):
    """Returned once, at creation: the only time the signing secret is shown."""

    secret: str = Field(description="whsec_… signing secret; store it now, it is not shown again.")


class DeliveryAttempt(BaseModel):
    at: dt.datetime
    status_code: int | None = Field(description="HTTP status, None when no answer")
    duration_ms: int | None = None
    error: str | None = None
    response: str | None = Field(default=None, description="Start of the receiver's answer.")


class DeliveryPublic(BaseModel):
    id: int
    subscription_id: int
    msg_id: str = Field(description="The webhook-id header, the same on every retry.")
    event_type: str
    status: str = Field(description="pending, succeeded or failed (gave up)")
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    payload: dict[str, Any] = Field(description="The exact JSON body sent.")
    log: list[DeliveryAttempt] = Field(default_factory=list)
