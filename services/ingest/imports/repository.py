"""Queries of the imports domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.importers.base import KnownAccount
from services.ingest.imports.models import ColumnMappingRow, Import
from services.ingest.store.models import Account
from shared.clock import utcnow


async def get(session: AsyncSession, import_id: int) -> Import | None:
    return await session.get(Import, import_id)


async def list_for_client(
    session: AsyncSession, client_id: int, *, before_id: int | None, limit: int
) -> Sequence[Import]:
    """Newest first."""
    q = select(Import).where(Import.client_id == client_id)
    if before_id is not None:
        q = q.where(col(Import.id) < before_id)
    return (await session.exec(q.order_by(col(Import.id).desc()).limit(limit))).all()


async def first_snapshot(session: AsyncSession, client_id: int, sha256: str) -> Import | None:
    """The first import of this very file content that stored its rows."""
    q = (
        select(Import)
        .where(
            Import.client_id == client_id,
            Import.sha256 == sha256,
            Import.status == "succeeded",
            col(Import.snapshot_date).is_not(None),
        )
        .order_by(col(Import.id))
        .limit(1)
    )
    return (await session.exec(q)).first()


async def account(session: AsyncSession, client_id: int, account_id: int) -> Account | None:
    acc = await session.get(Account, account_id)
    return acc if acc is not None and acc.client_id == client_id else None


async def known_accounts(session: AsyncSession, client_id: int) -> list[KnownAccount]:
    rows = await session.exec(
        select(Account).where(Account.client_id == client_id).order_by(col(Account.id))
    )
    return [known(a) for a in rows]


def known(a: Account) -> KnownAccount:
    return KnownAccount(
        id=a.id or 0,
        network=a.network,
        external_id=a.external_id,
        handle=a.handle,
        name=a.name,
        timezone=a.timezone,
    )


async def mappings_for(
    session: AsyncSession, client_id: int, signatures: Sequence[str] | None = None
) -> Sequence[ColumnMappingRow]:
    q = select(ColumnMappingRow).where(ColumnMappingRow.client_id == client_id)
    if signatures is not None:
        q = q.where(col(ColumnMappingRow.header_signature).in_(list(signatures)))
    return (await session.exec(q.order_by(col(ColumnMappingRow.id)))).all()


async def get_mapping(session: AsyncSession, mapping_id: int) -> ColumnMappingRow | None:
    return await session.get(ColumnMappingRow, mapping_id)


async def save_mapping(
    session: AsyncSession,
    client_id: int,
    *,
    name: str,
    signature: str,
    header: list[str],
    mapping: dict[str, object],
) -> ColumnMappingRow:
    """Create the client's mapping for this header, or replace the one it had."""
    row = (
        await session.exec(
            select(ColumnMappingRow).where(
                ColumnMappingRow.client_id == client_id,
                ColumnMappingRow.header_signature == signature,
            )
        )
    ).first()
    if row is None:
        row = ColumnMappingRow(client_id=client_id, header_signature=signature, name=name)
    row.name = name
    row.header = header
    row.mapping = mapping
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    return row
