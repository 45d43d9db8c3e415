"""Errors are problem+json with field paths; an unexpected error never shows its trace."""

from __future__ import annotations

import logging

from tests.conftest import build_app, running


async def test_malformed_json_is_422_with_field_paths(make_backend):
    async with make_backend("web") as (app, c):
        from shared.auth import Role, mint_service_token
        from tests.conftest import TEST_SECRET

        tok = mint_service_token(
            TEST_SECRET,
            subject="ingest",
            kind="service",
            role=Role.service,
            client_ids=[],
            audience=["web"],
        )
        h = {"Authorization": f"Bearer {tok}", "content-type": "application/json"}
        r = await c.post("/internal/v1/introspect", content=b'{"token": ', headers=h)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await c.post("/internal/v1/introspect", json={"token": 12, "x": 1}, headers=h)
        assert r.status_code == 422
        fields = [e["field"] for e in r.json()["errors"]]
        assert fields == ["body.token"]


async def test_unexpected_errors_are_a_bare_500(migrated, var_dir, caplog):
    import httpx

    app = build_app("ingest", migrated, var_dir, run_jobs_in_process=False)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    async with running(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as c:
            with caplog.at_level(logging.ERROR):
                r = await c.get("/boom")
    assert r.status_code == 500
    body = r.json()
    assert body["status"] == 500 and "internals" not in r.text and "Traceback" not in r.text
    assert "request_id" in body
    logged = "\n".join(rec.getMessage() + str(rec.exc_info) for rec in caplog.records)
    assert "secret internals" in logged  # the operator still gets the trace
