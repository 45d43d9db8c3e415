"""Schemathesis against each service's own OpenAPI document: no 5xx, conforming answers.

Each service runs in-process on the test database (committed, like ``make_live_backend``;
jobs are queued, never run, so nothing reaches a provider), benchmark and planner wired
to the real ingest and benchmark apps over ASGI. One client is seeded with a resource for
every kind of path parameter (the tenancy walker's factories, plus a real push secret,
subscription, delivery and connection made through the API), and the calls carry a valid
write token for that client. Most generated cases are pointed at the seeded resources (a
random id would only ever meet a 404); the others keep their generated ids.

For every operation Schemathesis generates schema-valid cases and schema-violating ones
(``BALISE_SCHEMATHESIS_EXAMPLES``, default 6 each); every answer must be below 500 and,
when its status is documented, conform to the documented schema. The specs declare no
OpenAPI links, so there is no stateful sequence to follow; the seeded resources stand in
for it. The number of cases per service is printed in the terminal summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import response_schema_conformance
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import UNWIRED, auth, build_app, new_client_id, running
from tests.contract.resources import FACTORIES
from tests.hostile.conftest import GENERATED
from tests.ingest.helpers import FIXTURES

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("BALISE_SCHEMATHESIS_EXAMPLES", "6"))
SEED = 20261128
#: Every provider a connector or OAuth flow could call points at a refusing port.
INGEST_OFFLINE = {
    f"{name}_base_url": UNWIRED
    for name in (
        "facebook", "instagram", "x", "linkedin", "youtube", "youtube_analytics",
        "pinterest", "ga4", "matomo", "plausible",
    )
}  # fmt: skip
#: A URL field is sent as generated unless it names a host to resolve: the run makes no
#: DNS query, so such a URL is replaced by a loopback literal (refused at once).
LOOPBACK_URL = "http://127.0.0.1:9/fuzz"


class Failure(AssertionError):
    pass


def _needs_dns(value: Any) -> bool:
    from urllib.parse import urlsplit

    if not isinstance(value, str) or "://" not in value:
        return False
    try:
        host = urlsplit(value.strip()).hostname
    except ValueError:
        return False
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return True
    return False


def _no_dns(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: _no_dns(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_no_dns(v) for v in body]
    return LOOPBACK_URL if _needs_dns(body) else body


async def _seed(service: str, engine: AsyncEngine, cid: int) -> dict[str, Any]:
    """The client's resources, one per path parameter the service's routes take."""
    from sqlmodel.ext.asyncio.session import AsyncSession

    out: dict[str, Any] = {}
    async with AsyncSession(engine, expire_on_commit=False) as session:
        for param, make in FACTORIES[service].items():
            if param in ("sub_id", "delivery_id", "connection_id", "import_id", "mapping_id"):
                continue  # made through the API below, with real secrets and files
            out[param] = await make(session, cid)
        await session.commit()
    return out


async def _seed_api(service: str, c: httpx.AsyncClient, cid: int, ids: dict[str, Any]) -> None:
    h = auth([cid])
    if service in ("ingest", "benchmark"):
        events = (await c.get("/v1/webhooks/events", headers=h)).json()
        names = [e["name"] for e in events["events"]]
        r = await c.post(
            "/v1/webhooks/subscriptions",
            json={"client_id": cid, "url": LOOPBACK_URL, "event_types": names[:1]},
            headers=h,
        )
        assert r.status_code == 201, r.text
        ids["sub_id"] = r.json()["id"]
        r = await c.post(f"/v1/webhooks/subscriptions/{ids['sub_id']}/ping", headers=h)
        assert r.status_code in (200, 201, 202), r.text
        ids["delivery_id"] = r.json()["id"]
    if service == "ingest":
        r = await c.post(f"/v1/clients/{cid}/push-secret", headers=h)
        assert r.status_code == 201, r.text
        r = await c.post(
            "/v1/connections/token",
            json={
                "client_id": cid,
                "network": "matomo",
                "token": "5f1c0d6e8b2a4e3f9a7c6b5d4e3f2a1b",
                "external_id": "3",
                "extra": {"base_url": UNWIRED},
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
        ids["connection_id"] = r.json()["connection"]["id"]
        # Two uploads of an unknown layout: the first gets a saved column mapping (and is
        # queued), the second keeps waiting for one, its file kept for the preview.
        sheet = (FIXTURES / "agency_weekly_sheet.csv").read_bytes()
        waiting = []
        for _ in range(2):
            r = await c.post(
                f"/v1/clients/{cid}/imports",
                files={"file": ("sheet.csv", sheet, "text/csv")},
                headers=h,
            )
            assert r.status_code == 202 and r.json()["status"] == "needs_mapping", r.text
            waiting.append(r.json()["id"])
        mapping = {
            "kind": "daily",
            "network": "facebook",
            "columns": {"Jour": "date", "Abonnés Facebook": "metric:followers"},
            "date_order": "dmy",
        }
        r = await c.post(
            f"/v1/imports/{waiting[0]}/mapping",
            json={"mapping": mapping, "save": True, "name": "hebdo"},
            headers=h,
        )
        assert r.status_code == 202, r.text
        ids["import_id"] = waiting[1]
        saved = (await c.get(f"/v1/clients/{cid}/column-mappings", headers=h)).json()
        ids["mapping_id"] = saved[0]["id"]


@contextlib.asynccontextmanager
async def _stack(
    service: str, url: str, var_dir: Path, engine: AsyncEngine
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """``service`` in-process, with the backends it calls mounted beside it (one engine
    for all: a PostgreSQL server shared with other work has few connections to spare)."""
    common: dict[str, Any] = {"run_jobs_in_process": False, "engine": engine}
    async with contextlib.AsyncExitStack() as stack:
        ingest = build_app("ingest", url, var_dir, **common, **INGEST_OFFLINE)
        await stack.enter_async_context(running(ingest))
        if service == "ingest":
            app = ingest
        else:
            bench = build_app(
                "benchmark",
                url,
                var_dir,
                factory_kwargs={"ingest_transport": httpx.ASGITransport(app=ingest)},
                ingest_url="http://ingest",
                **common,
            )
            await stack.enter_async_context(running(bench))
            transports = {
                "ingest": httpx.ASGITransport(app=ingest),
                "benchmark": httpx.ASGITransport(app=bench),
            }
            if service == "benchmark":
                app = bench
            elif service == "planner":
                app = build_app(
                    "planner",
                    url,
                    var_dir,
                    factory_kwargs={"transports": transports},
                    ingest_url="http://ingest",
                    benchmark_url="http://benchmark",
                    **common,
                )
                await stack.enter_async_context(running(app))
            else:
                app = build_app(
                    "web", url, var_dir, engine=engine, factory_kwargs={"transports": transports}
                )
                await stack.enter_async_context(running(app))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=f"http://{service}")
        )
        yield app, client


def _generate(schema: Any, rng: random.Random) -> list[tuple[str, Any, bool]]:
    """``(operation label, case, aimed at the seeded resources)`` for every operation."""
    cases: list[tuple[str, Any, bool]] = []
    for result in schema.get_all_operations():
        op = result.ok()
        for mode, n in ((GenerationMode.POSITIVE, EXAMPLES), (GenerationMode.NEGATIVE, EXAMPLES)):
            drawn: list[Any] = []

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(
                max_examples=n,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def draw(case: Any) -> None:
                drawn.append(case)  # noqa: B023 — the list of this round

            with contextlib.suppress(Exception):  # an operation hypothesis cannot satisfy
                draw()
            cases.extend((op.label, case, rng.random() < 0.75) for case in drawn)
    return cases


def _aim(case: Any, cid: int, ids: dict[str, Any]) -> None:
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    if isinstance(case.query, dict) and "client_id" in case.query:
        case.query["client_id"] = cid
    if isinstance(case.body, dict) and isinstance(case.body.get("client_id"), int):
        case.body["client_id"] = cid


def _part(part: Any) -> Any:
    """A multipart part whose generated value is not text (``requests`` would str() it)."""
    name, spec = part
    if isinstance(spec, tuple):
        value = spec[1]
        if not isinstance(value, (bytes, str)):
            value = json.dumps(value) if not isinstance(value, str) else value
        return name, (spec[0], value, *spec[2:])
    return part


def _request(case: Any, base_url: str, headers: dict[str, str]) -> dict[str, Any]:
    """Schemathesis' request (built for ``requests``) in httpx's words."""
    kw = case.as_transport_kwargs(base_url=base_url, headers=headers)
    out: dict[str, Any] = {
        "method": kw["method"],
        "url": kw["url"],
        "headers": {k: str(v) for k, v in (kw.get("headers") or {}).items()},
        "params": kw.get("params") or None,
        "cookies": kw.get("cookies") or None,
    }
    if "json" in kw:
        out["content"] = json.dumps(_no_dns(kw["json"]), allow_nan=True).encode()
        out["headers"].setdefault("Content-Type", "application/json")
    if "files" in kw or isinstance(kw.get("data"), dict):
        out["files"] = [_part(p) for p in kw.get("files") or []] or None
        out["data"] = kw.get("data") or None
    elif "data" in kw and kw["data"] is not None:
        data = kw["data"]
        out["content"] = data.encode() if isinstance(data, str) else data
    return out


async def _fuzz(service: str, url: str, var_dir: Path) -> tuple[int, list[str]]:
    from shared.db import create_engine

    cid = new_client_id()
    engine = create_engine(url)
    try:
        return await _fuzz_on(service, url, var_dir, engine, cid)
    finally:
        await engine.dispose()


async def _fuzz_on(
    service: str, url: str, var_dir: Path, engine: AsyncEngine, cid: int
) -> tuple[int, list[str]]:
    ids = await _seed(service, engine, cid)
    rng = random.Random(SEED)
    failures: list[str] = []
    sent = 0
    async with _stack(service, url, var_dir, engine) as (app, client):
        await _seed_api(service, client, cid, ids)
        spec = (await client.get("/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(spec)
        headers = auth([cid])
        for label, case, aimed in _generate(schema, rng):
            if aimed:
                _aim(case, cid, ids)
            request = _request(case, f"http://{service}", headers)
            try:
                response = await client.request(**request)
            except httpx.HTTPError as exc:  # the app broke the ASGI protocol
                failures.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            sent += 1
            if response.status_code >= 500:
                failures.append(
                    f"{label}: {response.status_code} for {request['method']} "
                    f"{response.request.url} body={request.get('content')!r:.300} "
                    f"answer={response.text[:300]!r}"
                )
                continue
            response.request.read()  # a multipart body is a stream until read
            try:
                case.validate_response(response, checks=[response_schema_conformance])
            except Exception as exc:
                failures.append(f"{label}: {response.status_code} does not conform: {exc!s:.600}")
    return sent, failures


@pytest.mark.parametrize("service", ["ingest", "benchmark", "planner", "web"])
async def test_generated_requests_get_no_5xx_and_conforming_answers(
    migrated: str, var_dir: Path, service: str
) -> None:
    started = dt.datetime.now(dt.UTC)
    sent, failures = await _fuzz(service, migrated, var_dir)
    GENERATED[service] = sent
    took = (dt.datetime.now(dt.UTC) - started).total_seconds()
    assert sent > 0
    if failures:
        unique = sorted(set(failures))
        raise Failure(
            f"{service}: {len(unique)} failing answers out of {sent} cases ({took:.0f}s):\n"
            + "\n".join(unique[:40])
        )
