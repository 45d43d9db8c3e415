"""Typed client of the ingest API, as the planner uses it (contracts: shared.schemas.ingest).

Calls carry the caller's own token (``principal.token``) so ingest applies the caller's
tenancy, or a service token minted for a job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from shared.http import BackendClient
from shared.schemas.common import Page
from shared.schemas.ingest import AccountPublic, AccountStats, Baseline, StatsQuery


class IngestClient(BackendClient):
    service = "ingest"

    async def baseline(
        self,
        token: str,
        client_id: int,
        *,
        metric: str,
        network: str | None,
        start: dt.date,
        end: dt.date,
    ) -> Baseline:
        """One KPI's measured value over ``start``..``end`` (value None: no data)."""
        return await self.get_model(
            Baseline,
            f"/v1/clients/{client_id}/baselines",
            token=token,
            params={
                "metric": metric,
                "network": network,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )

    async def accounts(self, token: str, client_id: int) -> list[AccountPublic]:
        """The client's own and its peers' accounts."""
        page = await self.get_model(
            Page[AccountPublic],
            f"/v1/clients/{client_id}/accounts",
            token=token,
            params={"limit": 500},
        )
        return page.data

    async def stats(
        self, token: str, account_ids: Iterable[int], start: dt.date, end: dt.date
    ) -> list[AccountStats]:
        ids = list(account_ids)
        if not ids:
            return []
        body = StatsQuery(account_ids=ids, start=start, end=end)
        resp = await self.request(
            "POST", "/v1/stats/accounts", token=token, json=body.model_dump(mode="json")
        )
        from pydantic import TypeAdapter

        return TypeAdapter(list[AccountStats]).validate_json(resp.content)
