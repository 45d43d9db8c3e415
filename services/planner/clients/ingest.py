"""Typed client of the ingest API, as the planner uses it (contracts: shared.schemas.ingest).

Calls carry the caller's own token (``principal.token``) so ingest applies the caller's
tenancy, or a service token minted for a job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import TypeAdapter

from shared.http import BackendClient
from shared.schemas.common import Page
from shared.schemas.ingest import (
    AccountPublic,
    AccountStats,
    AccountStatsList,
    Baseline,
    StatsQuery,
    StatsSection,
)

_BASELINES = TypeAdapter(list[Baseline])


class IngestClient(BackendClient):
    service = "ingest"

    async def baselines(
        self,
        token: str,
        client_id: int,
        *,
        start: dt.date,
        end: dt.date,
        network: str | None = None,
    ) -> list[Baseline]:
        """Every KPI's value over ``start``..``end``, per network and across networks
        (``network`` None), web properties included. ``value`` None: no data."""
        resp = await self.request(
            "GET",
            f"/v1/clients/{client_id}/baselines",
            token=token,
            params={"start": start.isoformat(), "end": end.isoformat(), "network": network},
        )
        return _BASELINES.validate_json(resp.content)

    async def accounts(self, token: str, client_id: int) -> list[AccountPublic]:
        """The client's own and its peers' accounts (first 500)."""
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
        """Period figures with the engagement by slot (for the best time slots)."""
        ids = list(account_ids)
        if not ids:
            return []
        body = StatsQuery(
            account_ids=ids, start=start, end=end, sections=[StatsSection.engagement_heatmap]
        )
        resp = await self.request(
            "POST", "/v1/stats/accounts", token=token, json=body.model_dump(mode="json")
        )
        return AccountStatsList.model_validate_json(resp.content).data
