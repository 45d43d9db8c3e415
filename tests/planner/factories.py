"""Factories of plans through the planner's own API (so every test goes through its rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.conftest import auth


async def create_plan(
    c: httpx.AsyncClient,
    client_id: int,
    *,
    name: str = "Plan 2026",
    start: dt.date = dt.date(2026, 1, 1),
    end: dt.date = dt.date(2026, 12, 31),
) -> tuple[dict[str, Any], int]:
    r = await c.post(
        "/v1/plans",
        json={
            "client_id": client_id,
            "name": name,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
        },
        headers=auth([client_id]),
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    return plan, plan["versions"][0]["id"]


async def add(c: httpx.AsyncClient, client_id: int, vid: int, collection: str, body: dict) -> dict:
    """Add an item; return the new item (the last of its collection)."""
    r = await c.post(f"/v1/versions/{vid}/{collection}", json=body, headers=auth([client_id]))
    assert r.status_code == 201, r.text
    return r.json()["document"][collection][-1]


async def compose_basic(c: httpx.AsyncClient, client_id: int, vid: int) -> dict[str, Any]:
    """A small complete plan: one audience, two objectives, pillars, team, two spaces."""
    aud = await add(
        c,
        client_id,
        vid,
        "audiences",
        {
            "name": "Jeunes familles",
            "description": "Parents 25-44 au Québec",
            "age_bands": ["25-34", "35-44"],
            "language": "fr",
            "region": "QC",
            "interests": ["plein air"],
        },
    )
    o1 = await add(
        c,
        client_id,
        vid,
        "objectives",
        {
            "audience_id": aud["id"],
            "kind": "awareness",
            "kpi": "followers",
            "network": "instagram",
            "target": 5000,
        },
    )
    o2 = await add(
        c,
        client_id,
        vid,
        "objectives",
        {
            "audience_id": aud["id"],
            "kind": "engagement",
            "kpi": "engagement_rate_by_follower",
            "network": "facebook",
            "target": 0.02,
        },
    )
    p1 = await add(c, client_id, vid, "pillars", {"name": "Terroir", "share": 0.6})
    p2 = await add(c, client_id, vid, "pillars", {"name": "Événements", "share": 0.4})
    a1 = await add(c, client_id, vid, "animators", {"name": "Léa", "hours_per_week": 10})
    s1 = await add(
        c,
        client_id,
        vid,
        "spaces",
        {
            "network": "facebook",
            "animator_id": a1["id"],
            "posts_per_week": 3,
            "minutes_per_post": 40,
            "community_minutes_per_week": 60,
            "formats": ["photo", "video"],
        },
    )
    s2 = await add(
        c,
        client_id,
        vid,
        "spaces",
        {
            "network": "instagram",
            "animator_id": a1["id"],
            "posts_per_week": 2,
            "minutes_per_post": 60,
            "community_minutes_per_week": 60,
            "formats": ["reel"],
        },
    )
    return {
        "audience": aud,
        "objectives": [o1, o2],
        "pillars": [p1, p2],
        "animator": a1,
        "spaces": [s1, s2],
    }
