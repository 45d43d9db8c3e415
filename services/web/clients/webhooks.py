"""Web's client for the outgoing-webhook API every backend may mount (``/v1/webhooks``).

A mixin of the three backend clients (contracts: :mod:`shared.schemas.webhooks`).
"""

from __future__ import annotations

from typing import Any

from shared.http import BackendClient
from shared.schemas.common import Page
from shared.schemas.webhooks import (
    DeliveryPublic,
    EventCatalogue,
    SubscriptionCreated,
    SubscriptionPublic,
)


class WebhooksClientMixin(BackendClient):
    async def webhook_events(self, token: str) -> EventCatalogue:
        return await self.get_model(EventCatalogue, "/v1/webhooks/events", token=token)

    async def webhook_subscriptions(self, token: str, client_id: int) -> list[SubscriptionPublic]:
        page = await self.get_model(
            Page[SubscriptionPublic],
            "/v1/webhooks/subscriptions",
            token=token,
            params={"client_id": client_id},
        )
        return page.data

    async def create_webhook_subscription(
        self, token: str, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> SubscriptionCreated:
        resp = await self.request(
            "POST",
            "/v1/webhooks/subscriptions",
            token=token,
            json=body,
            idempotency_key=idempotency_key,
        )
        return SubscriptionCreated.model_validate_json(resp.content)

    async def webhook_subscription(self, token: str, sub_id: int) -> SubscriptionPublic:
        return await self.get_model(
            SubscriptionPublic, f"/v1/webhooks/subscriptions/{sub_id}", token=token
        )

    async def delete_webhook_subscription(self, token: str, sub_id: int) -> None:
        await self.request("DELETE", f"/v1/webhooks/subscriptions/{sub_id}", token=token)

    async def enable_webhook_subscription(self, token: str, sub_id: int) -> SubscriptionPublic:
        return await self.send_model(
            "POST", SubscriptionPublic, f"/v1/webhooks/subscriptions/{sub_id}/enable", token=token
        )

    async def ping_webhook_subscription(self, token: str, sub_id: int) -> DeliveryPublic:
        return await self.send_model(
            "POST", DeliveryPublic, f"/v1/webhooks/subscriptions/{sub_id}/ping", token=token
        )

    async def webhook_deliveries(
        self, token: str, sub_id: int, *, limit: int = 20, cursor: str | None = None
    ) -> Page[DeliveryPublic]:
        return await self.get_model(
            Page[DeliveryPublic],
            f"/v1/webhooks/subscriptions/{sub_id}/deliveries",
            token=token,
            params={"limit": limit, "cursor": cursor},
        )

    async def retry_webhook_delivery(self, token: str, delivery_id: int) -> DeliveryPublic:
        return await self.send_model(
            "POST", DeliveryPublic, f"/v1/webhooks/deliveries/{delivery_id}/retry", token=token
        )
