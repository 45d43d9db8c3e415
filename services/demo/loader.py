"""Loads the demo agency: its staff, its client, and (through each service) its data.

Everything is written in one transaction on the shared database, each service's part
through that service's own functions: web's clients and users, ingest's account service
and store loader, the benchmark's peer groups, peers and relays, the planner's draft plan.
A failure leaves the database as it was (``balise demo`` refuses a non-empty one).
"""

from __future__ import annotations

import time
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.demo.generate import Demo, generate

DEMO_CLIENT = {
    "name": "Tourisme Haute-Côte (démo)",
    "slug": "tourisme-haute-cote",
    "locale": "fr_CA",
}
DEMO_STAFF = [
    ("admin@demo.balise", "Alex Admin", "admin"),
    ("strategiste@demo.balise", "Camille Stratège", "strategist"),
    ("animation@demo.balise", "Jordan Animation", "community_manager"),
    ("client@demo.balise", "Sam Client", "client_viewer"),
]


async def load_all(database_url: str | None = None, demo: Demo | None = None) -> dict[str, Any]:
    """Generate the demo and load it into the database at ``database_url`` (default: the
    configured ``DATABASE_URL``), whose schema must be at head. Returns what was loaded,
    with the time each part took."""
    from services.web.config import WebSettings
    from shared.db import check_schema, create_engine, create_sessionmaker

    url = database_url or WebSettings().database_url
    engine = create_engine(url)
    try:
        await check_schema(engine)
        async with create_sessionmaker(engine)() as session:
            summary = await load_into(session, demo)
            started = time.perf_counter()
            await session.commit()
            summary["seconds"]["commit"] = round(time.perf_counter() - started, 2)
    finally:
        await engine.dispose()
    return summary


async def load_into(session: AsyncSession, demo: Demo | None = None) -> dict[str, Any]:
    """Load the demo in ``session``'s transaction (the caller commits)."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 2)
        clock = now

    demo = demo or generate()
    lap("generate")
    client_id = await _web_part(session)
    lap("web")
    summary: dict[str, Any] = {"client_id": client_id, "users": len(DEMO_STAFF)}
    summary.update(await _ingest_client_part(session, client_id, demo))
    lap("ingest")
    summary["plan_id"] = await _planner_part(session, client_id, demo)
    lap("planner")
    summary["seconds"] = seconds
    return summary


async def _web_part(session: AsyncSession) -> int:
    from services.cli import DEMO_PASSWORD
    from services.web import service as web_service

    client = await web_service.create_client(session, **DEMO_CLIENT)
    assert client.id is not None
    for email, name, role in DEMO_STAFF:
        await web_service.create_user(
            session,
            email=email,
            name=name,
            password=DEMO_PASSWORD,
            role=role,
            client_ids=[] if role == "admin" else [client.id],
        )
    return client.id


async def _ingest_client_part(session: AsyncSession, client_id: int, demo: Demo) -> dict[str, Any]:
    from services.demo import load_ingest
    from shared.schemas.ingest import OwnerKind

    for account in demo.client.accounts:
        await load_ingest.register_account(session, client_id, account, OwnerKind.client)
    site = demo.client.website
    await load_ingest.register(
        session,
        client_id,
        load_ingest.website_ref(site),
        url=site.url,
        timezone=site.timezone,
        collected_from=site.collected_from,
        owner_kind=OwnerKind.client,
    )
    records = [
        *load_ingest.account_records(demo.client.accounts),
        *load_ingest.website_records(site),
    ]
    counts = await load_ingest.store_records(session, client_id, records, OwnerKind.client)
    return {
        "client_accounts": len(demo.client.accounts) + 1,
        "client_daily_rows": counts.daily_rows,
        "client_posts": counts.posts_created,
        "client_post_metrics": counts.post_metrics,
        "web_rows": counts.web_rows,
    }


async def _planner_part(session: AsyncSession, client_id: int, demo: Demo) -> int:
    from services.demo import load_planner
    from services.demo.plan import plan_draft

    return await load_planner.draft_plan(session, client_id, plan_draft(demo.end), [])
