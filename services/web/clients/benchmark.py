"""Typed client of the benchmark backend (contracts: shared.schemas.benchmark and the
benchmark API's own answers, read here as plain dictionaries where no contract model is
shared)."""

from __future__ import annotations

from typing import Any

from services.web.clients import ServiceClient
from shared.schemas.benchmark import BenchmarkResultFull, CoCreatorCandidate
from shared.schemas.common import JobAccepted


class BenchmarkClient(ServiceClient):
    service = "benchmark"

    async def _json(self, method: str, path: str, token: str, **kw: Any) -> Any:
        resp = await self.request(method, path, token=token, **kw)
        return resp.json() if resp.content else None

    # ------------------------------------------------------------------ peers

    async def peer_groups(self, token: str, client_id: int) -> list[dict[str, Any]]:
        body = await self._json("GET", f"/v1/clients/{client_id}/peer-groups", token)
        data: list[dict[str, Any]] = body["data"]
        return data

    async def create_group(self, token: str, client_id: int, body: dict[str, Any]) -> Any:
        return await self._json("POST", f"/v1/clients/{client_id}/peer-groups", token, json=body)

    async def peer_group(self, token: str, group_id: int) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("GET", f"/v1/peer-groups/{group_id}", token)
        return data

    async def delete_group(self, token: str, group_id: int) -> None:
        await self.request("DELETE", f"/v1/peer-groups/{group_id}", token=token)

    async def add_peer(self, token: str, group_id: int, body: dict[str, Any]) -> Any:
        return await self._json("POST", f"/v1/peer-groups/{group_id}/peers", token, json=body)

    async def delete_peer(self, token: str, peer_id: int) -> None:
        await self.request("DELETE", f"/v1/peers/{peer_id}", token=token)

    async def compute(self, token: str, group_id: int, body: dict[str, Any]) -> JobAccepted:
        resp = await self.request(
            "POST", f"/v1/peer-groups/{group_id}/benchmark", token=token, json=body
        )
        return JobAccepted.model_validate_json(resp.content)

    async def results(self, token: str, group_id: int) -> list[dict[str, Any]]:
        body = await self._json("GET", f"/v1/peer-groups/{group_id}/benchmarks", token)
        data: list[dict[str, Any]] = body["data"]
        return data

    async def result(self, token: str, result_id: int) -> BenchmarkResultFull:
        return await self.get_model(BenchmarkResultFull, f"/v1/benchmarks/{result_id}", token=token)

    async def import_peer_data(
        self, token: str, peer_id: int, account_id: int, filename: str, data: bytes
    ) -> dict[str, Any]:
        out: dict[str, Any] = await self._json(
            "POST",
            f"/v1/peers/{peer_id}/accounts/{account_id}/import",
            token,
            files={"file": (filename, data)},
            timeout=120.0,
        )
        return out

    # ------------------------------------------------------------------ relays

    async def relays(self, token: str, params: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("GET", "/v1/relays", token, params=params)
        return data

    async def relay(self, token: str, relay_id: int, client_id: int | None) -> dict[str, Any]:
        data: dict[str, Any] = await self._json(
            "GET", f"/v1/relays/{relay_id}", token, params={"client_id": client_id}
        )
        return data

    async def create_relay(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("POST", "/v1/relays", token, json=body)
        return data

    async def update_relay(self, token: str, relay_id: int, body: dict[str, Any]) -> Any:
        return await self._json("PATCH", f"/v1/relays/{relay_id}", token, json=body)

    async def shortlist(self, token: str, client_id: int) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._json(
            "GET", f"/v1/clients/{client_id}/shortlist", token
        )
        return data

    async def shortlist_add(self, token: str, client_id: int, relay_id: int) -> Any:
        return await self._json(
            "POST", f"/v1/clients/{client_id}/shortlist", token, json={"relay_id": relay_id}
        )

    async def shortlist_remove(self, token: str, client_id: int, relay_id: int) -> None:
        await self.request("DELETE", f"/v1/clients/{client_id}/shortlist/{relay_id}", token=token)

    async def co_creators(self, token: str, client_id: int) -> list[CoCreatorCandidate]:
        return list(
            await self.get_as(
                list[CoCreatorCandidate], f"/v1/clients/{client_id}/co-creators", token=token
            )
        )

    async def duplicates(self, token: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = await self._json("GET", "/v1/relays/duplicates", token)
        return data

    async def merge(self, token: str, keep: int, other: int) -> Any:
        return await self._json("POST", f"/v1/relays/{keep}/merge", token, json={"other_id": other})

    async def dismiss(self, token: str, a: int, b: int) -> None:
        await self.request(
            "POST", "/v1/relays/duplicates/dismiss", token=token, json={"a": a, "b": b}
        )

    async def import_relays(
        self, token: str, filename: str, data: bytes, params: dict[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = await self._json(
            "POST",
            "/v1/relays/import",
            token,
            params=params,
            files={"file": (filename, data, "text/csv")},
        )
        return out

    async def export_relays(self, token: str, params: dict[str, Any]) -> bytes:
        resp = await self.request("GET", "/v1/relays/export.csv", token=token, params=params)
        return resp.content

    # ------------------------------------------------------------------ scoring

    async def scoring_settings(self, token: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("GET", "/v1/scoring/settings", token)
        return data

    async def put_scoring_settings(
        self, token: str, body: dict[str, Any], client_id: int
    ) -> dict[str, Any]:
        data: dict[str, Any] = await self._json(
            "PUT", "/v1/scoring/settings", token, json=body, params={"client_id": client_id}
        )
        return data

    async def rescore(self, token: str, client_id: int) -> JobAccepted:
        resp = await self.request(
            "POST", "/v1/scoring/rescore", token=token, params={"client_id": client_id}
        )
        return JobAccepted.model_validate_json(resp.content)

    async def themes(self, token: str, client_id: int) -> list[str]:
        body = await self._json("GET", f"/v1/clients/{client_id}/themes", token)
        return list(body["keywords"])

    async def put_themes(self, token: str, client_id: int, keywords: list[str]) -> list[str]:
        body = await self._json(
            "PUT", f"/v1/clients/{client_id}/themes", token, json={"keywords": keywords}
        )
        return list(body["keywords"])
