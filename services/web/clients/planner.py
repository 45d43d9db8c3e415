"""Typed client of the planner backend (contracts: shared.schemas.planner)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import TypeAdapter

from services.web.clients import ServiceClient
from shared.schemas.common import JobAccepted, Page
from shared.schemas.planner import (
    CalendarItemPublic,
    CalendarSummary,
    PlanProgress,
    PlanPublic,
    PlanVersionPublic,
    Suggestions,
    VersionComparison,
)


class PlannerClient(ServiceClient):
    service = "planner"

    async def plans(self, token: str, client_id: int) -> list[PlanPublic]:
        page = await self.get_model(
            Page[PlanPublic], "/v1/plans", token=token, params={"client_id": client_id}
        )
        return page.data

    async def create_plan(self, token: str, body: dict[str, Any]) -> PlanPublic:
        resp = await self.request("POST", "/v1/plans", token=token, json=body)
        return PlanPublic.model_validate_json(resp.content)

    async def plan(self, token: str, plan_id: int) -> PlanPublic:
        return await self.get_model(PlanPublic, f"/v1/plans/{plan_id}", token=token)

    async def version(self, token: str, version_id: int) -> PlanVersionPublic:
        return await self.get_model(PlanVersionPublic, f"/v1/versions/{version_id}", token=token)

    async def version_call(
        self, token: str, method: str, version_id: int, path: str, body: Any = None
    ) -> PlanVersionPublic:
        """Any call on a version that answers with the version (edits, accept, lifecycle)."""
        resp = await self.request(
            method, f"/v1/versions/{version_id}{path}", token=token, json=body
        )
        return PlanVersionPublic.model_validate_json(resp.content)

    async def new_version(self, token: str, plan_id: int) -> PlanVersionPublic:
        resp = await self.request("POST", f"/v1/plans/{plan_id}/versions", token=token)
        return PlanVersionPublic.model_validate_json(resp.content)

    async def suggestions(self, token: str, version_id: int) -> Suggestions:
        return await self.get_model(
            Suggestions, f"/v1/versions/{version_id}/suggestions", token=token
        )

    async def compare(self, token: str, plan_id: int, a: int, b: int) -> VersionComparison:
        return await self.get_model(
            VersionComparison,
            f"/v1/plans/{plan_id}/compare",
            token=token,
            params={"a": a, "b": b},
        )

    async def calendar(
        self, token: str, version_id: int, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[CalendarItemPublic]:
        result: list[CalendarItemPublic] = await self.get_as(
            list[CalendarItemPublic],
            f"/v1/versions/{version_id}/calendar",
            token=token,
            params={"start": start, "end": end},
        )
        return result

    async def generate_calendar(
        self, token: str, version_id: int, body: dict[str, Any]
    ) -> CalendarSummary:
        resp = await self.request(
            "POST", f"/v1/versions/{version_id}/calendar/generate", token=token, json=body
        )
        return CalendarSummary.model_validate_json(resp.content)

    async def move_item(
        self, token: str, version_id: int, item_id: int, body: dict[str, Any]
    ) -> CalendarItemPublic:
        resp = await self.request(
            "PATCH", f"/v1/versions/{version_id}/calendar/{item_id}", token=token, json=body
        )
        return CalendarItemPublic.model_validate_json(resp.content)

    async def progress(self, token: str, version_id: int) -> PlanProgress:
        return await self.get_model(
            PlanProgress,
            f"/v1/versions/{version_id}/progress",
            token=token,
            params={"series": "true"},
        )

    async def export(self, token: str, version_id: int, fmt: str, locale: str) -> JobAccepted:
        resp = await self.request(
            "POST",
            f"/v1/versions/{version_id}/exports",
            token=token,
            json={"format": fmt, "locale": locale},
        )
        return JobAccepted.model_validate_json(resp.content)

    async def download(self, token: str, export_id: int) -> tuple[bytes, str, str]:
        resp = await self.request("GET", f"/v1/exports/{export_id}", token=token)
        return (
            resp.content,
            resp.headers.get("content-type", "application/octet-stream"),
            resp.headers.get("content-disposition", "attachment"),
        )

    async def calendar_file(
        self, token: str, version_id: int, params: dict[str, Any]
    ) -> tuple[bytes, str, str]:
        resp = await self.request(
            "GET", f"/v1/versions/{version_id}/calendar.csv", token=token, params=params
        )
        return (
            resp.content,
            resp.headers.get("content-type", "text/csv"),
            resp.headers.get("content-disposition", "attachment"),
        )

    async def create_feed(self, token: str, plan_id: int, animator_id: str) -> dict[str, Any]:
        resp = await self.request(
            "POST", f"/v1/plans/{plan_id}/animators/{animator_id}/feed", token=token
        )
        data: dict[str, Any] = resp.json()
        return data

    async def revoke_feed(self, token: str, plan_id: int, animator_id: str) -> None:
        await self.request(
            "DELETE", f"/v1/plans/{plan_id}/animators/{animator_id}/feed", token=token
        )

    async def feed(self, token: str) -> tuple[bytes, str]:
        resp = await self.request("GET", f"/v1/feeds/{token}.ics")
        return resp.content, resp.headers.get("content-type", "text/calendar")


__all__ = ["PlannerClient", "TypeAdapter"]
