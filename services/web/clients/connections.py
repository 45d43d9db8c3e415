"""Web's client for ingest's connections, syncs and push secrets.

A mixin of :class:`services.web.clients.ingest.IngestClient` (contracts:
:mod:`shared.schemas.connections`).
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shared.http import BackendClient
from shared.schemas.common import Page
from shared.schemas.connections import (
    ConnectionCreated,
    ConnectionPublic,
    OAuthStarted,
    ProviderPublic,
    PushSecretCreated,
    PushSecretPublic,
    SyncRunPublic,
    SyncStarted,
)


class ConnectionsClientMixin(BackendClient):
    async def connection_providers(self, token: str) -> list[ProviderPublic]:
        resp = await self.request("GET", "/v1/connections/providers", token=token)
        return TypeAdapter(list[ProviderPublic]).validate_json(resp.content)

    async def connections(self, token: str, client_id: int) -> list[ConnectionPublic]:
        page = await self.get_model(
            Page[ConnectionPublic], f"/v1/clients/{client_id}/connections", token=token
        )
        return page.data

    async def connection(self, token: str, connection_id: int) -> ConnectionPublic:
        return await self.get_model(
            ConnectionPublic, f"/v1/connections/{connection_id}", token=token
        )

    async def connection_runs(
        self, token: str, connection_id: int, limit: int = 10
    ) -> list[SyncRunPublic]:
        page = await self.get_model(
            Page[SyncRunPublic],
            f"/v1/connections/{connection_id}/runs",
            token=token,
            params={"limit": limit},
        )
        return page.data

    async def oauth_start(self, token: str, body: dict[str, Any]) -> OAuthStarted:
        resp = await self.request("POST", "/v1/connections/oauth/start", token=token, json=body)
        return OAuthStarted.model_validate_json(resp.content)

    async def oauth_complete(self, token: str, body: dict[str, Any]) -> ConnectionCreated:
        resp = await self.request("POST", "/v1/connections/oauth/complete", token=token, json=body)
        return ConnectionCreated.model_validate_json(resp.content)

    async def paste_token(self, token: str, body: dict[str, Any]) -> ConnectionCreated:
        resp = await self.request("POST", "/v1/connections/token", token=token, json=body)
        return ConnectionCreated.model_validate_json(resp.content)

    async def paste_service_account(self, token: str, body: dict[str, Any]) -> ConnectionCreated:
        resp = await self.request("POST", "/v1/connections/service-account", token=token, json=body)
        return ConnectionCreated.model_validate_json(resp.content)

    async def sync_now(self, token: str, connection_id: int) -> SyncStarted:
        return await self.send_model(
            "POST", SyncStarted, f"/v1/connections/{connection_id}/sync", token=token
        )

    async def revoke_connection(self, token: str, connection_id: int) -> ConnectionPublic:
        return await self.send_model(
            "POST", ConnectionPublic, f"/v1/connections/{connection_id}/revoke", token=token
        )

    async def push_secret(self, token: str, client_id: int) -> PushSecretPublic:
        return await self.get_model(
            PushSecretPublic, f"/v1/clients/{client_id}/push-secret", token=token
        )

    async def create_push_secret(self, token: str, client_id: int) -> PushSecretCreated:
        return await self.send_model(
            "POST", PushSecretCreated, f"/v1/clients/{client_id}/push-secret", token=token
        )
