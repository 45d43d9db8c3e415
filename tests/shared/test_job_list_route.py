"""``GET /v1/jobs``: the fast route answers exactly what the declared route answers.

Each backend serves the job list through :class:`JobListRoute` ahead of FastAPI. Every
query below is asked twice, once of the app as built and once of the same app with the
fast route taken out, and both answers must be equal (status, type, body), for the
queries the fast route takes and for those it leaves to FastAPI's validation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from starlette.routing import Match

from services.benchmark.models import BenchmarkJob
from services.ingest.models import IngestJob
from services.planner.models import PlannerJob
from shared.jobs_api import JobListRoute
from tests.conftest import auth, new_client_id

MODELS = {"ingest": IngestJob, "benchmark": BenchmarkJob, "planner": PlannerJob}
T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def _seed(model: Any, cid: int, other: int) -> list[Any]:
    rows = [
        model(
            name="sync",
            client_id=cid,
            status="succeeded",
            progress=100,
            message="done",
            result={"rows": 12, "note": "é <b>"},
            attempts=1,
            created_at=T0,
            started_at=T0 + dt.timedelta(seconds=1),
            finished_at=T0 + dt.timedelta(seconds=9),
        ),
        model(
            name="import",
            client_id=cid,
            status="failed",
            progress=40,
            message="stopped",
            error="The file ended in the middle of a row.",
            attempts=2,
            created_at=T0 + dt.timedelta(minutes=5),
        ),
        model(name="score", client_id=cid, created_at=T0 + dt.timedelta(minutes=9)),
        model(name="other", client_id=other, created_at=T0 + dt.timedelta(minutes=1)),
        model(name="global", client_id=None, created_at=T0 + dt.timedelta(minutes=2)),
    ]
    return rows


def _queries(cid: int, other: int) -> dict[str, bool]:
    """Each query string, and whether the fast route takes it."""
    return {
        f"client_id={cid}": True,
        f"client_id={cid}&limit=2": True,
        f"limit=1&client_id={cid}": True,
        f"client_id={cid}&status=failed": True,
        f"client_id={cid}&status=queued&limit=200": True,
        f"client_id={cid}&status=running": True,
        f"client_id={other}": True,  # another client's: refused the same way
        "client_id=2147483647": False,  # ten digits: left to FastAPI
        f"client_id={cid}&limit=0": False,
        f"client_id={cid}&limit=201": False,
        f"client_id={cid}&status=lost": False,
        f"client_id={cid}&status=": False,
        f"client_id={cid}&client_id={other}": False,
        f"client_id={cid}&extra=1": False,
        "client_id=abc": False,
        "client_id=-3": False,
        "client_id=0": False,
        f"client_id=%2B{cid}": False,  # "+<id>"
        f"client_id=%3{cid}": True,  # percent-encoded digits decode to an id
        "": False,
        "limit=5": False,
    }


def _answer(r: httpx.Response) -> tuple[int, str, Any]:
    body = r.json()
    if isinstance(body, dict):
        body.pop("request_id", None)  # one per request
    return r.status_code, r.headers["content-type"], body


@pytest.mark.parametrize("name", sorted(MODELS))
async def test_fast_job_list_answers_as_the_declared_route(make_backend, db, name):
    cid, other = new_client_id(), new_client_id()
    db.add_all(_seed(MODELS[name], cid, other))
    await db.flush()
    async with make_backend(name) as (app, c):
        fast = next(r for r in app.router.routes if isinstance(r, JobListRoute))
        queries = _queries(cid, other)
        headers = auth([cid])
        served = {}
        for qs in queries:
            served[qs] = _answer(await c.get(f"/v1/jobs?{qs}", headers=headers))
        served["no token"] = _answer(await c.get(f"/v1/jobs?client_id={cid}"))
        app.router.routes.remove(fast)
        for qs, taken in queries.items():
            scope = {"type": "http", "path": "/v1/jobs", "method": "GET"}
            assert (fast.matches({**scope, "query_string": qs.encode()})[0] is Match.FULL) is taken
            declared = _answer(await c.get(f"/v1/jobs?{qs}", headers=headers))
            assert served[qs] == declared, qs
        declared = _answer(await c.get(f"/v1/jobs?client_id={cid}"))
        assert served["no token"] == declared

    # What the list holds: the client's own jobs, newest first, failed ones retryable.
    status, ctype, page = served[f"client_id={cid}"]
    assert status == 200 and ctype == "application/json"
    assert [j["name"] for j in page["data"]] == ["score", "import", "sync"]
    assert [j["retryable"] for j in page["data"]] == [False, True, False]
    assert page["data"][2]["result"] == {"rows": 12, "note": "é <b>"}
    assert page["data"][2]["finished_at"].startswith("2026-03-02T09:30:09")
    assert [j["name"] for j in served[f"client_id={cid}&limit=2"][2]["data"]] == [
        "score",
        "import",
    ]
    assert [j["name"] for j in served[f"client_id={cid}&status=failed"][2]["data"]] == ["import"]
    assert served[f"client_id={cid}&status=running"][2]["data"] == []
    assert served[f"client_id={other}"][0] in (403, 404)
    assert served[f"client_id={cid}&limit=0"][0] == 422
    assert served["no token"][0] == 401


@pytest.mark.parametrize("name", sorted(MODELS))
async def test_other_methods_and_paths_are_not_taken(make_backend, name):
    async with make_backend(name) as (app, c):
        fast = next(r for r in app.router.routes if isinstance(r, JobListRoute))
        for method, path in (("POST", "/v1/jobs"), ("GET", "/v1/jobs/abc"), ("HEAD", "/v1/x")):
            scope = {"type": "http", "path": path, "method": method, "query_string": b"client_id=1"}
            assert fast.matches(scope)[0] is Match.NONE
        r = await c.post("/v1/jobs?client_id=1", headers=auth([1]))
        assert r.status_code == 405
