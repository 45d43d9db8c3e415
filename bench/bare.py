"""Baseline apps: the simplest FastAPI endpoints, measured beside Balise's own.

``create_app`` serves a bare JSON endpoint (``GET /bare``) and a bare push receiver
(``POST /bare-push/{client_id}``: reads the body, answers a small JSON, stores nothing).
``create_fanout_app`` is the dashboard's baseline: ``GET /page`` calls three trivial
endpoints (``BARE_BACKENDS``, comma-separated base URLs) side by side through one bare
``aiohttp.ClientSession`` and renders a Jinja2 page padded to ``BARE_PAGE_BYTES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>
{% for name, body in panels %}<section class="panel"><h2>{{ name }}</h2>
<p>{{ body["data"]|length }} jobs{% if body["next_cursor"] %}, more{% endif %}</p></section>
{% endfor %}
{% for i in range(rows) %}<p class="row">Ligne {{ i }} du tableau de bord &mdash; {{ title }}</p>
{% endfor %}</main></body></html>
"""


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"data": [], "next_cursor": None}

    @app.post("/bare-push/{client_id}")
    async def bare_push(client_id: int, request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"msg_id": request.headers.get("webhook-id", ""), "daily_rows": len(body) > 0}

    return app


def create_fanout_app() -> FastAPI:
    import aiohttp
    import jinja2

    backends = [u for u in os.environ.get("BARE_BACKENDS", "").split(",") if u]
    target = int(os.environ.get("BARE_PAGE_BYTES", "8000"))
    template = jinja2.Environment(autoescape=True).from_string(PAGE)

    def render(panels: list[tuple[str, Any]], rows: int) -> str:
        return template.render(title="Tableau de bord", panels=panels, rows=rows)

    empty = [(f"b{i}", {"data": [], "next_cursor": None}) for i in range(len(backends))]
    per_row = len(render(empty, 101).encode()) - len(render(empty, 100).encode())
    rows = max(0, (target - len(render(empty, 0).encode())) // max(1, per_row))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as session:
            app.state.session = session
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/page", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        session: aiohttp.ClientSession = request.app.state.session

        async def call(base: str) -> Any:
            async with session.get(f"{base}/bare") as resp:
                resp.raise_for_status()
                return await resp.json()

        bodies = await asyncio.gather(*(call(b) for b in backends))
        panels = [(f"b{i}", body) for i, body in enumerate(bodies)]
        return HTMLResponse(render(panels, rows))

    return app


def run() -> list[Any]:
    """Not a benchmark by itself: the baseline apps the others start."""
    return []
