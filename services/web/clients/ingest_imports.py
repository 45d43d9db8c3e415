"""Ingest's imports API, for web's imports pages (a mixin of :class:`IngestClient`)."""

from __future__ import annotations

from typing import IO

from shared.http import BackendClient
from shared.schemas.common import Page
from shared.schemas.imports import (
    ColumnMappingPublic,
    FormatPublic,
    ImportPreview,
    ImportPublic,
    MappingSubmit,
)
from shared.schemas.ingest import AccountPublic


class IngestImportsMixin(BackendClient):
    async def imports(
        self, token: str, client_id: int, *, limit: int = 50, cursor: str | None = None
    ) -> Page[ImportPublic]:
        """A client's imports, newest first."""
        return await self.get_model(
            Page[ImportPublic],
            f"/v1/clients/{client_id}/imports",
            token=token,
            params={"limit": limit, "cursor": cursor},
        )

    async def import_(self, token: str, import_id: int) -> ImportPublic:
        return await self.get_model(ImportPublic, f"/v1/imports/{import_id}", token=token)

    async def upload_import(
        self,
        token: str,
        client_id: int,
        *,
        file_name: str,
        stream: IO[bytes],
        content_type: str | None,
        account_id: int | None = None,
        format: str | None = None,
        timeout: float = 300.0,
    ) -> ImportPublic:
        """Send an export file to ingest (streamed); its import starts there."""
        data = {}
        if account_id is not None:
            data["account_id"] = str(account_id)
        if format:
            data["format"] = format
        resp = await self.request(
            "POST",
            f"/v1/clients/{client_id}/imports",
            token=token,
            files={"file": (file_name, stream, content_type or "application/octet-stream")},
            data=data,
            timeout=timeout,
        )
        return ImportPublic.model_validate_json(resp.content)

    async def import_preview(self, token: str, import_id: int) -> ImportPreview:
        return await self.get_model(ImportPreview, f"/v1/imports/{import_id}/preview", token=token)

    async def submit_import_mapping(
        self, token: str, import_id: int, body: MappingSubmit
    ) -> ImportPublic:
        return await self.send_model(
            "POST", ImportPublic, f"/v1/imports/{import_id}/mapping", body, token=token
        )

    async def column_mappings(self, token: str, client_id: int) -> list[ColumnMappingPublic]:
        result: list[ColumnMappingPublic] = await self.get_as(
            list[ColumnMappingPublic], f"/v1/clients/{client_id}/column-mappings", token=token
        )
        return result

    async def import_formats(self, token: str) -> list[FormatPublic]:
        result: list[FormatPublic] = await self.get_as(
            list[FormatPublic], "/v1/import-formats", token=token
        )
        return result

    async def import_accounts(self, token: str, client_id: int) -> list[AccountPublic]:
        """The client's accounts an import may belong to (its own and its peers')."""
        page = await self.get_model(
            Page[AccountPublic],
            f"/v1/clients/{client_id}/accounts",
            token=token,
            params={"limit": 500},
        )
        return page.data
