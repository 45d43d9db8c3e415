"""The tenancy matrix: every backend route × every kind of caller × own/other client.

Generated at collection time from each backend's own OpenAPI document, so a route added
later joins the matrix by itself (and a path parameter without a resource factory in
tests/contract/resources.py fails with a message saying what to add). Each cell is one
request against the real app on the test's rolled-back transaction:

* ``other``: the caller belongs to client A, the resources to client B. Every route
  answers 403 or 404 — never data — whoever calls.
* ``own``: the resources are the caller's own client's. A reader (a client viewer, even
  holding a token that claims ``write``, or a read-only API token) reads (2xx) and is
  refused every write (403); a writer is never refused (no 401/403) and never gets a 5xx.
* API tokens are real rows in web's table, introspected by the real web app, scoped to
  one service: a token for another service is refused (403) everywhere.

The agency-wide relay directory has no "other client": its cell is ``agency`` (staff read
and write by their scope; a client viewer never sees it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth import ApiTokenCache
from tests.conftest import build_app, running, token_for
from tests.contract.resources import BODIES, FACTORIES
from tests.contract.test_tenancy import AGENCY_PREFIXES, EXEMPT, example
from tests.web.conftest import web_introspector

SERVICES = ("ingest", "benchmark", "planner")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
# Callers: (kind, role, scope). Users get the service token web mints for them; API
# tokens are introspected by web. A client viewer's JWT claims write on purpose: the role
# alone must forbid writes, whatever the scope says.
CALLERS: dict[str, tuple[str, str, str]] = {
    "admin": ("user", "admin", "write"),
    "strategist": ("user", "strategist", "write"),
    "community_manager": ("user", "community_manager", "write"),
    "client_viewer": ("user", "client_viewer", "write"),
    "api_read": ("api", "strategist", "read"),
    "api_write": ("api", "strategist", "write"),
    "api_other_service": ("api", "strategist", "write"),
}
READERS = {"client_viewer", "api_read"}
# Routes outside the matrix, beyond tests/contract's EXEMPT list. Each says why.
SIGNED = {
    ("ingest", "GET", "/v1/incoming/meta"): "Meta's subscription handshake: checked against the "
    "verify token, never a bearer (tests/ingest and tests/hostile cover it)",
    ("ingest", "POST", "/v1/incoming/meta"): "Meta's notifications: authenticated by the "
    "X-Hub-Signature-256 of the raw body, never a bearer",
}
# Published reference figures (sources cited, no agency or client data): any signed-in
# caller may read them, client viewers included (their audit pages cite them).
PUBLIC_READS = {("benchmark", "GET", "/v1/reference")}
# The product's role rules beyond "a client viewer never writes": who else is refused.
ROLE_ONLY: dict[tuple[str, str, str], set[str]] = {
    # Scoring weights change every client's relay ranking: strategists (and admins) only.
    ("benchmark", "PUT", "/v1/scoring/settings"): {"admin", "strategist", "api_write"},
}
# Query values the schema-driven generator cannot invent.
QUERIES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("ingest", "GET", "/v1/accounts/{account_id}/metrics"): {"metric": "followers"},
}
# Own-client reads answering something else than 2xx past the access checks, by design of
# the placeholder resource the factory makes. Each: (status, why).
OWN_ANSWERS: dict[tuple[str, str, str], tuple[int, str]] = {
    ("ingest", "GET", "/v1/clients/{client_id}/audit/reports/{job_id}"): (
        404,
        "the job factory makes a failed generic job, not a rendered report",
    ),
    ("ingest", "GET", "/v1/imports/{import_id}/preview"): (
        409,
        "the import factory stores no file (the preview says it is no longer kept)",
    ),
}
# Writes that call another backend, unwired here: past the access checks they answer a
# clean 503 problem (never a 500).
CALLS_ANOTHER_BACKEND = {
    ("planner", "POST", "/v1/versions/{version_id}/baselines"),
}
# POSTs that only read (a query too large for a URL): readers may call them. Each says why.
READ_POSTS: dict[tuple[str, str], str] = {
    ("ingest", "/v1/stats/accounts"): "computes statistics of many accounts; changes nothing",
    ("ingest", "/v1/stats/daily/columns"): "streams many accounts' daily metrics; a read",
    ("ingest", "/v1/stats/posts/columns"): "streams many accounts' post metrics; a read",
}


def _routes() -> list[tuple[str, str, str]]:
    """(service, METHOD, path) of every route in the backends' OpenAPI documents."""
    os.environ.setdefault("BALISE_ENV", "test")
    out = []
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / "balise-matrix-spec"
    for service in SERVICES:
        # Building an app opens nothing: the spec needs no database.
        app = build_app(service, "sqlite+aiosqlite:///:memory:", scratch)
        for path, item in app.openapi()["paths"].items():
            for method in item:
                key = (service, method.upper(), path)
                if method.upper() in ("GET", *WRITES) and key not in EXEMPT and key not in SIGNED:
                    out.append((service, method.upper(), path))
    return out


ROUTES = _routes()
CELLS = [
    pytest.param(
        service,
        method,
        path,
        caller,
        target,
        id=f"{service} {method} {path} | {caller} | {target}",
    )
    for service, method, path in ROUTES
    for caller in CALLERS
    for target in (("agency",) if path.startswith(AGENCY_PREFIXES) else ("own", "other"))
]


class Apps:
    def __init__(self, apps: dict[str, Any], clients: dict[str, httpx.AsyncClient]) -> None:
        self.apps = apps
        self.clients = clients


@pytest.fixture(scope="module")
async def apps(migrated: str, var_dir: Path, engine: AsyncEngine) -> AsyncIterator[Apps]:
    """The three backends and web, built once for the whole matrix (each test rebinds
    them to its own rolled-back transaction)."""
    import contextlib

    web = build_app("web", migrated, var_dir, engine=engine)
    # Each backend alone (the others unwired, as in tests/contract): the matrix is about
    # who may reach what, and one rolled-back transaction cannot serve nested requests.
    ingest = build_app("ingest", migrated, var_dir, engine=engine, run_jobs_in_process=False)
    benchmark = build_app("benchmark", migrated, var_dir, engine=engine, run_jobs_in_process=False)
    planner = build_app("planner", migrated, var_dir, engine=engine, run_jobs_in_process=False)
    all_apps = {"web": web, "ingest": ingest, "benchmark": benchmark, "planner": planner}
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name, app in all_apps.items():
            await stack.enter_async_context(running(app))
            clients[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
        for name in SERVICES:
            all_apps[name].state.api_tokens = ApiTokenCache(
                web_introspector(all_apps["web"]), ttl=0
            )
        yield Apps(all_apps, clients)


async def _web_client(db: Any) -> int:
    from services.web.models import Client

    slug = f"matrix-{uuid.uuid4().hex[:12]}"
    row = Client(name=slug, slug=slug)
    db.add(row)
    await db.flush()
    return int(row.id)


async def _api_token(db: Any, client_id: int, services: list[str], scope: str) -> str:
    """A real API token of a strategist assigned to ``client_id``, stored hashed in web."""
    from services.web import service as web_service
    from services.web.models import User, UserClient

    user = User(
        email=f"matrix-{uuid.uuid4().hex[:12]}@example.test",
        name="matrix",
        password_hash="!unusable",
        role="strategist",
    )
    db.add(user)
    await db.flush()
    db.add(UserClient(user_id=int(user.id), client_id=client_id))
    await db.flush()
    token, _ = await web_service.create_api_token(
        db,
        user,
        name="matrix",
        services=services,
        client_ids=[client_id],
        scope=scope,
        expires_in_days=1,
    )
    return token


def _bind(apps: Apps, db: Any) -> None:
    from tests.conftest import bind_session

    for app in apps.apps.values():
        bind_session(app, db)


async def _headers(db: Any, caller: str, service: str, client_a: int) -> dict[str, str]:
    kind, role, scope = CALLERS[caller]
    if kind == "user":
        return {"Authorization": f"Bearer {token_for([client_a], role=role, scope=scope)}"}
    services = (
        [s for s in SERVICES if s != service][:1] if caller == "api_other_service" else [service]
    )
    return {"Authorization": f"Bearer {await _api_token(db, client_a, services, scope)}"}


async def _request(
    http: httpx.AsyncClient,
    spec: dict[str, Any],
    service: str,
    method: str,
    path: str,
    target_client: int,
    resources: dict[str, Any],
    headers: dict[str, str],
) -> httpx.Response:
    op = spec["paths"][path][method.lower()]
    url = path
    params: dict[str, Any] = {}
    for p in op.get("parameters", []):
        name = p["name"]
        if p["in"] == "path":
            assert name in resources, (
                f"{method} {path}: add a factory for the path parameter {name!r} in "
                "tests/contract/resources.py"
            )
            url = url.replace("{" + name + "}", str(resources[name]))
        elif p["in"] == "query" and (p.get("required") or name in resources):
            params[name] = example(spec, p.get("schema", {}), target_client, name, resources)
    params.update(QUERIES.get((service, method, path), {}))
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return await http.request(
            method,
            url,
            params=params,
            headers=headers,
            files={"file": ("x.csv", b"a,b\n1,2\n")},
            data={"client_id": str(target_client)},
        )
    body = None
    if (service, method, path) in BODIES:
        body = BODIES[(service, method, path)]
    elif "application/json" in content:
        body = example(
            spec, content["application/json"].get("schema", {}), target_client, resources=resources
        )
    return await http.request(method, url, params=params, json=body, headers=headers)


_SPECS: dict[str, dict[str, Any]] = {}


@pytest.mark.parametrize(("service", "method", "path", "caller", "target"), CELLS)
async def test_matrix(
    apps: Apps, db: Any, service: str, method: str, path: str, caller: str, target: str
) -> None:
    _bind(apps, db)
    http = apps.clients[service]
    if service not in _SPECS:
        _SPECS[service] = (await http.get("/openapi.json")).json()
    spec = _SPECS[service]
    client_a = await _web_client(db)
    client_b = await _web_client(db) if target == "other" else client_a
    needed = {p["name"] for p in spec["paths"][path][method.lower()].get("parameters", [])}
    resources = {
        name: await make(db, client_b)
        for name, make in FACTORIES[service].items()
        if name in needed or name.endswith("_id")
    }
    headers = await _headers(db, caller, service, client_a)
    r = await _request(http, spec, service, method, path, client_b, resources, headers)
    cell = (
        f"{method} {path} as {caller} on {target} client answered {r.status_code}: {r.text[:300]}"
    )
    key = (service, method, path)
    writes = method in WRITES and (service, path) not in READ_POSTS
    if caller == "api_other_service":
        assert r.status_code == 403, cell
    elif target == "other":
        assert r.status_code in (403, 404), cell
    elif target == "agency" and caller == "client_viewer" and key not in PUBLIC_READS:
        assert r.status_code in (403, 404), cell  # the directory is not theirs to see
    elif caller in READERS and writes:
        # 404 where the route hides itself from non-staff (the relay shortlist).
        assert r.status_code in (403, 404), cell
    elif key in ROLE_ONLY and caller not in ROLE_ONLY[key]:
        assert r.status_code == 403, cell
    elif not writes:
        expected = OWN_ANSWERS.get(key, (200, ""))[0]
        if expected == 200:
            assert 200 <= r.status_code < 300, cell
        else:
            assert r.status_code == expected, cell
    elif key in CALLS_ANOTHER_BACKEND:
        assert r.status_code == 503, cell
    else:
        assert r.status_code not in (401, 403) and r.status_code < 500, cell
