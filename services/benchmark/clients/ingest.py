"""Typed client of ingest, the only source of the benchmark's metrics.

Every call carries a bearer token: the caller's own (``principal.token``) when serving a
request, or a service token minted by :func:`service_token` in jobs. Peers' accounts are
registered per client (``/v1/clients/{id}/accounts``), relays' accounts agency-wide
(``/v1/agency/accounts``); ingest collects their public data, and benchmark reads it back
through the read contracts of :mod:`shared.schemas.ingest` and the columnar streams of
:mod:`shared.schemas.ingest_columns`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable
from typing import Any

from pydantic import TypeAdapter

from shared.auth import Role, mint_service_token
from shared.http import BackendClient, BackendRejected
from shared.schemas.imports import ImportPublic
from shared.schemas.ingest import (
    AccountCreate,
    AccountPublic,
    AccountStats,
    PostPublic,
    StatsQuery,
    StatsSection,
)
from shared.schemas.ingest_columns import (
    DailyColumnsQuery,
    FrameReader,
    PostColumnsQuery,
    decode_chunk,
    decode_frame,
    media_type,
)

_STATS = TypeAdapter(list[AccountStats])
_ACCOUNTS = TypeAdapter(list[AccountPublic])
_POSTS = TypeAdapter(list[PostPublic])
STATS_BATCH = 5_000  # accounts per stats call: bounded answers, bounded memory


def service_token(secret: str, client_ids: Iterable[int]) -> str:
    """A short-lived token for a job of the benchmark service acting for these clients."""
    return mint_service_token(
        secret,
        subject="benchmark",
        kind="service",
        role=Role.service,
        client_ids=client_ids,
        audience=["ingest"],
        ttl=900,
    )


def _data(body: Any) -> tuple[Any, str | None]:
    """The items and next cursor of a paginated answer (``{"data", "next_cursor"}``)."""
    if isinstance(body, dict):
        return body.get("data", []), body.get("next_cursor")
    return body, None


class IngestClient(BackendClient):
    service = "ingest"

    # ------------------------------------------------------------------ accounts

    async def register_client_account(
        self, token: str, client_id: int, body: AccountCreate
    ) -> AccountPublic:
        """Register (or find again) a space of a client's peer; ingest starts collecting."""
        return await self._register(token, f"/v1/clients/{client_id}/accounts", body)

    async def register_agency_account(self, token: str, body: AccountCreate) -> AccountPublic:
        """Register (or find again) a relay's account, agency-wide."""
        return await self._register(token, "/v1/agency/accounts", body)

    async def _register(self, token: str, path: str, body: AccountCreate) -> AccountPublic:
        try:
            return await self.send_model("POST", AccountPublic, path, body, token=token)
        except BackendRejected as exc:
            if exc.status != 409:
                raise
        # Already registered (same network and external id): find it and reuse it.
        for acc in await self._accounts(token, path, {"network": body.network.value}):
            if acc.network == body.network and acc.external_id == body.external_id:
                return acc
        raise BackendRejected(self.service, "account conflict but not found", 409)

    async def client_accounts(
        self, token: str, client_id: int, owner_kind: str | None = None
    ) -> list[AccountPublic]:
        params = {"owner_kind": owner_kind} if owner_kind else {}
        accounts = await self._accounts(token, f"/v1/clients/{client_id}/accounts", params)
        # Filter here too: the answer must hold only what was asked, whatever the server.
        return [a for a in accounts if owner_kind is None or a.owner_kind == owner_kind]

    async def agency_accounts(self, token: str) -> list[AccountPublic]:
        return await self._accounts(token, "/v1/agency/accounts", {})

    async def _accounts(self, token: str, path: str, params: dict[str, Any]) -> list[AccountPublic]:
        out: list[AccountPublic] = []
        cursor: str | None = None
        while True:
            resp = await self.request(
                "GET", path, token=token, params={**params, "cursor": cursor, "limit": 500}
            )
            items, cursor = _data(resp.json())
            out.extend(_ACCOUNTS.validate_python(items))
            if not cursor:
                return out

    # ------------------------------------------------------------------ statistics

    async def stats(
        self,
        token: str,
        account_ids: list[int],
        start: dt.date,
        end: dt.date,
        sections: list[StatsSection] | None = None,
    ) -> list[AccountStats]:
        """Period aggregates of many accounts (``POST /v1/stats/accounts``), in batches.

        ``sections=[]`` asks only for the figures and rates (what rescoring needs).
        """
        out: list[AccountStats] = []
        ids = sorted(set(account_ids))
        for i in range(0, len(ids), STATS_BATCH):
            query = StatsQuery(
                account_ids=ids[i : i + STATS_BATCH], start=start, end=end, sections=sections
            )
            resp = await self.request(
                "POST", "/v1/stats/accounts", token=token, json=query.model_dump(mode="json")
            )
            items, _ = _data(resp.json())
            out.extend(_STATS.validate_python(items))
        return out

    async def posts(
        self, token: str, account_id: int, start: dt.date, end: dt.date, limit: int = 200
    ) -> list[PostPublic]:
        """Every post of an account published in ``[start, end]`` (all pages)."""
        out: list[PostPublic] = []
        cursor: str | None = None
        while True:
            resp = await self.request(
                "GET",
                f"/v1/accounts/{account_id}/posts",
                token=token,
                params={
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "cursor": cursor,
                    "limit": limit,
                },
            )
            items, cursor = _data(resp.json())
            out.extend(_POSTS.validate_python(items))
            if not cursor:
                return out

    # ------------------------------------------------------------------ imports

    async def upload_import(
        self,
        token: str,
        client_id: int,
        filename: str,
        data: bytes,
        account_id: int,
        format: str | None = None,
    ) -> ImportPublic:
        """Hand an export file to ingest's import pipeline for one (peer's) account."""
        form = {"account_id": str(account_id)}
        if format:
            form["format"] = format
        resp = await self.request(
            "POST",
            f"/v1/clients/{client_id}/imports",
            token=token,
            files={"file": (filename, data)},
            data=form,
            timeout=120.0,
        )
        return ImportPublic.model_validate_json(resp.content)

    # ------------------------------------------------------------------ columnar streams

    async def post_columns(
        self, token: str, query: PostColumnsQuery
    ) -> AsyncIterator[tuple[int, dict[str, Any]]]:
        """Chunks of posts as columns (see :mod:`shared.schemas.ingest_columns`)."""
        async for n, cols, _ in self._stream("/v1/stats/posts/columns", token, query):
            yield n, cols

    async def daily_columns(
        self, token: str, query: DailyColumnsQuery
    ) -> AsyncIterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        async for item in self._stream("/v1/stats/daily/columns", token, query):
            yield item

    async def _stream(
        self, path: str, token: str, query: PostColumnsQuery | DailyColumnsQuery
    ) -> AsyncIterator[tuple[int, dict[str, Any], dict[str, Any]]]:
        headers = {"Authorization": f"Bearer {token}", "Accept": media_type(query.encoding)}
        async with self.http.stream(
            "POST", path, json=query.model_dump(mode="json"), headers=headers
        ) as resp:
            if resp.status_code >= 400:
                await resp.aread()
                self._check_response(resp)
            if query.encoding == "binary":
                reader = FrameReader()
                async for data in resp.aiter_bytes():
                    for frame in reader.feed(data):
                        yield decode_frame(frame)
                reader.close()
                return
            async for line in resp.aiter_lines():
                if line.strip():
                    yield decode_chunk(line)
