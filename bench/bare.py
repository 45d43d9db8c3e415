"""Baseline apps: the simplest FastAPI endpoints, measured beside Balise's own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"data": [], "next_cursor": None}

    return app


def run() -> list[Any]:
    """Not a benchmark by itself: the baseline apps the others start."""
    return []
