"""The test harness itself: what a request commits inside a test is rolled back after it."""

from __future__ import annotations

from sqlmodel import select

from services.web.models import Client

SLUG = "isolation-probe"


async def _count(engine) -> int:
    from shared.db import create_sessionmaker

    async with create_sessionmaker(engine)() as s:
        return len((await s.exec(select(Client).where(Client.slug == SLUG))).all())


async def test_a_commit_inside_the_test_transaction(db, engine):
    db.add(Client(name="Probe", slug=SLUG))
    await db.commit()  # a savepoint release inside the test's transaction
    assert len((await db.exec(select(Client).where(Client.slug == SLUG))).all()) == 1
    assert await _count(engine) == 0  # nobody outside the test's transaction sees it


async def test_is_gone_in_the_next_test(engine):
    assert await _count(engine) == 0
