"""Every service: health, readiness, docs, metrics and problem+json errors."""

from __future__ import annotations

import pytest

from tests.conftest import auth, new_client_id

BACKENDS = ("ingest", "benchmark", "planner")
ALL = (*BACKENDS, "web")


@pytest.mark.parametrize("name", ALL)
async def test_health_ready_docs_metrics(make_backend, name):
    async with make_backend(name) as (app, c):
        r = await c.get("/healthz")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        r = await c.get("/readyz")
        assert r.status_code == 200, r.text
        checks = r.json()["checks"]
        assert checks["database"] == "ok" and checks["schema"] == "at head"
        r = await c.get("/docs")
        assert r.status_code == 200 and "swagger" in r.text.lower()
        spec = (await c.get("/openapi.json")).json()
        assert spec["info"]["title"].startswith("Balise")
        r = await c.get("/metrics")
        assert r.status_code == 200
        assert "balise_http_requests_total" in r.text


@pytest.mark.parametrize("name", BACKENDS)
async def test_unknown_route_is_problem_404(make_backend, name):
    async with make_backend(name) as (app, c):
        r = await c.get("/v1/nothing-here", headers=auth([1]))
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["status"] == 404 and body["type"].endswith("/not-found")
        assert "request_id" in body


@pytest.mark.parametrize("name", BACKENDS)
async def test_backends_require_a_token(make_backend, name):
    async with make_backend(name) as (app, c):
        r = await c.get("/v1/jobs", params={"client_id": 1})
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["type"].endswith("/unauthorized")


@pytest.mark.parametrize("name", BACKENDS)
async def test_request_id_is_propagated(make_backend, name):
    async with make_backend(name) as (app, c):
        r = await c.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert r.headers["x-request-id"] == "abc-123"
        r = await c.get("/healthz")
        assert len(r.headers["x-request-id"]) == 32


@pytest.mark.parametrize("name", BACKENDS)
async def test_body_over_limit_is_413(make_backend, name):
    async with make_backend(name, max_body_bytes=1000) as (app, c):
        cid = new_client_id()
        r = await c.post(
            "/v1/jobs/x/retry",
            content=b"{" + b" " * 5000 + b"}",
            headers={**auth([cid]), "content-type": "application/json"},
        )
        assert r.status_code == 413
        assert r.json()["status"] == 413
