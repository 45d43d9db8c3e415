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


async def test_a_read_query_gives_what_core_gives(migrated):
    """``ReadQuery`` (straight on asyncpg on PostgreSQL), on a Core connection and through
    a :class:`HotReader`, against Core's own rows: the
    values written into the statement, JSON parsed, datetimes, NULLs."""
    from sqlalchemy import bindparam, literal
    from sqlalchemy import select as core_select

    from services.ingest.models import IngestJob
    from shared.db import HotReader, ReadQuery, read_engine

    engine = create_engine(migrated)
    jobs = IngestJob.__table__
    cid = 900_000_000 + uuid.uuid4().int % 1_000_000
    statement = (
        core_select(jobs.c.id, jobs.c.result, jobs.c.created_at, jobs.c.error, literal("é"))
        .where(jobs.c.client_id == bindparam("cid"), jobs.c.status != "failed")
        .order_by(jobs.c.name)
    )
    try:
        async with create_sessionmaker(engine)() as w:
            w.add(IngestJob(name="a", client_id=cid, result={"rows": [1, 2], "n": "é"}))
            w.add(IngestJob(name="b", client_id=cid, result=None, error="x"))
            w.add(IngestJob(name="c", client_id=cid, status="failed"))
            await w.commit()
        async with read_engine(engine).connect() as conn:
            expected = [tuple(r) for r in (await conn.execute(statement, {"cid": cid})).all()]
            got = await ReadQuery(statement).all(conn, {"cid": cid})
        assert got == expected
        # The same through the hot reader (its own asyncpg pool on PostgreSQL).
        reader = HotReader(engine, size=2)
        await reader.start()
        try:
            query = ReadQuery(statement)
            assert await reader.all(query, {"cid": cid}) == expected
            assert await reader.all(query, {"cid": cid + 1}) == []
        finally:
            await reader.close()
        assert [r[1] for r in got] == [{"rows": [1, 2], "n": "é"}, None]
        assert [r[3] for r in got] == [None, "x"] and {r[4] for r in got} == {"é"}
    finally:
        async with create_sessionmaker(engine)() as w:
            for j in (await w.exec(select(IngestJob).where(IngestJob.client_id == cid))).all():
                await w.delete(j)
            await w.commit()
        await engine.dispose()


def test_only_a_lost_connection_counts_as_one():
    from asyncpg import exceptions as pg

    from shared.db import _driver_disconnect

    assert _driver_disconnect(pg.ConnectionDoesNotExistError("closed in the middle"))
    assert _driver_disconnect(pg.AdminShutdownError("terminating connection"))
    assert _driver_disconnect(pg.InterfaceError("cannot perform operation: connection is closed"))
    assert _driver_disconnect(ConnectionResetError())
    assert not _driver_disconnect(
        pg.InterfaceError("cannot perform operation: another operation is in progress")
    )
    assert not _driver_disconnect(pg.UniqueViolationError("duplicate key"))
    assert not _driver_disconnect(ValueError("bad value"))


async def test_a_hot_reader_answers_503_when_the_database_is_unreachable(migrated):
    """Nothing listens on the port: the read fails fast with the 503 problem (recovery
    after a real restart is the PostgreSQL restart fault test's)."""
    import socket

    from sqlalchemy import literal
    from sqlalchemy import select as core_select

    from shared.db import HotReader, ReadQuery
    from shared.errors import ServiceUnavailable

    if not migrated.startswith("postgresql"):
        pytest.skip("the hot reader has a pool of its own on PostgreSQL only")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    engine = create_engine(migrated)
    dead = create_engine(engine.url.set(host="127.0.0.1", port=port).render_as_string(False))
    query = ReadQuery(core_select(literal(1)))
    reader = HotReader(dead, size=1)
    await reader.start()
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            await reader.all(query, {})
        assert caught.value.status == 503
    finally:
        await reader.close()
        await dead.dispose()
    live = HotReader(engine, size=1)  # the same query on a reachable database
    await live.start()
    try:
        assert await live.all(query, {}) == [(1,)]
    finally:
        await live.close()
        await engine.dispose()
