"""Read-only sessions: autocommit reads that give the connection back transactional."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from services.web.models import Client
from shared.db import create_engine, create_read_sessionmaker, create_sessionmaker, read_session


async def _slugs(maker, slug: str) -> list[str]:
    async with maker() as s:
        return [c.slug for c in (await s.exec(select(Client).where(Client.slug == slug))).all()]


async def test_a_connection_used_for_reads_is_transactional_again_for_writes(migrated):
    engine = create_engine(migrated, pool_size=1, max_overflow=0)
    writes, reads = create_sessionmaker(engine), create_read_sessionmaker(engine)
    slug = f"ro-{uuid.uuid4().hex[:10]}"
    try:
        async with read_session(reads) as r:
            assert (await r.exec(select(Client).where(Client.slug == slug))).all() == []
        # The same pooled connection now serves a write that is rolled back: in
        # autocommit its INSERT would already be kept.
        async with writes() as w:
            w.add(Client(name="Probe", slug=slug))
            await w.flush()
            await w.rollback()
        assert await _slugs(writes, slug) == []
    finally:
        async with writes() as w:
            for c in (await w.exec(select(Client).where(Client.slug == slug))).all():
                await w.delete(c)
            await w.commit()
        await engine.dispose()


async def test_a_read_only_session_refuses_changes_and_writes_nothing(migrated):
    engine = create_engine(migrated)
    slug = f"ro-{uuid.uuid4().hex[:10]}"
    try:
        with pytest.raises(RuntimeError, match="read-only"):
            async with read_session(create_read_sessionmaker(engine)) as r:
                r.add(Client(name="Probe", slug=slug))
        assert await _slugs(create_sessionmaker(engine), slug) == []
    finally:
        await engine.dispose()
