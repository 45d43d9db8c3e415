"""Loads the demo agency: its staff, its client, and (through each service) its data."""

from __future__ import annotations

from typing import Any

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


async def load_all() -> dict[str, Any]:
    from services.cli import DEMO_PASSWORD, _with_web_session
    from services.web import service as web_service

    async def web_part(db: Any) -> dict[str, Any]:
        client = await web_service.create_client(db, **DEMO_CLIENT)
        for email, name, role in DEMO_STAFF:
            await web_service.create_user(
                db,
                email=email,
                name=name,
                password=DEMO_PASSWORD,
                role=role,
                client_ids=[] if role == "admin" else [client.id or 0],
            )
        return {"client_id": client.id, "users": len(DEMO_STAFF)}

    summary = await _with_web_session(web_part)
    return summary
