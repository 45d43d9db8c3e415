"""Typed client of the benchmark API (contracts: shared.schemas.benchmark)."""

from __future__ import annotations

from shared.http import BackendClient, BackendNotFound
from shared.schemas.benchmark import BenchmarkResult, CoCreatorCandidate


class BenchmarkClient(BackendClient):
    service = "benchmark"

    async def latest(self, token: str, client_id: int) -> BenchmarkResult | None:
        """The client's most recent peer benchmark; None when none was computed yet."""
        try:
            return await self.get_model(
                BenchmarkResult, f"/v1/clients/{client_id}/benchmarks/latest", token=token
            )
        except BackendNotFound:
            return None

    async def cocreators(self, token: str, client_id: int) -> list[CoCreatorCandidate]:
        """Co-creator candidates: shortlisted relays and engaged community members."""
        result: list[CoCreatorCandidate] = await self.get_as(
            list[CoCreatorCandidate], f"/v1/clients/{client_id}/cocreators", token=token
        )
        return result
