"""The whole stack in-process: web with the three real backends mounted under its clients.

Everything runs on the committed test database (web fans out to the backends
concurrently, which a single rolled-back connection cannot serve); each test creates its
own client and users with unique names, so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.auth import ApiTokenCache, Role, mint_service_token
from shared.db import create_sessionmaker
from tests.conftest import TEST_SECRET, build_app, running, settings_for

PASSWORD = "correct horse battery staple"


@dataclass
class Stack:
    web: httpx.AsyncClient
    web_app: Any
    backends: dict[str, httpx.AsyncClient]
    apps: dict[str, Any]
    engine: AsyncEngine
    users: dict[str, Any] = field(default_factory=dict)

    async def session(self) -> Any:
        return create_sessionmaker(self.engine)()


def web_introspector(web_app: Any) -> Any:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=web_app), base_url="http://web")

    async def introspect(token: str) -> dict[str, Any] | None:
        own = mint_service_token(
            TEST_SECRET,
            subject="test",
            kind="service",
            role=Role.service,
            client_ids=[],
            audience=["web"],
            ttl=60,
        )
        r = await client.post(
            "/internal/v1/introspect",
            json={"token": token},
            headers={"Authorization": f"Bearer {own}"},
        )
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    return introspect


@contextlib.asynccontextmanager
async def open_stack(
    migrated: str,
    var_dir: Path,
    engine: AsyncEngine,
    down: tuple[str, ...] = (),
    down_url: str = "http://127.0.0.1:9",
    **web_overrides: Any,
) -> AsyncIterator[Stack]:
    from services.web.app import create_app as create_web
    from services.web.config import WebSettings

    # The backends call each other in-process too, as they do over HTTP in production.
    ingest_app = build_app("ingest", migrated, var_dir, engine=engine, run_jobs_in_process=False)
    benchmark_app = build_app(
        "benchmark",
        migrated,
        var_dir,
        engine=engine,
        run_jobs_in_process=False,
        factory_kwargs={"ingest_transport": httpx.ASGITransport(app=ingest_app)},
        ingest_url="http://ingest",
    )
    planner_app = build_app(
        "planner",
        migrated,
        var_dir,
        engine=engine,
        run_jobs_in_process=False,
        factory_kwargs={
            "transports": {
                "ingest": httpx.ASGITransport(app=ingest_app),
                "benchmark": httpx.ASGITransport(app=benchmark_app),
            }
        },
        ingest_url="http://ingest",
        benchmark_url="http://benchmark",
    )
    apps = {"ingest": ingest_app, "benchmark": benchmark_app, "planner": planner_app}
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    for n, a in apps.items():
        if n in down:
            # A port nothing listens on: a real connection refusal, not a fake.
            transports[n] = httpx.AsyncHTTPTransport(retries=0)
        else:
            transports[n] = httpx.ASGITransport(app=a)
    web_settings = settings_for(
        WebSettings,
        migrated,
        var_dir,
        ingest_url=down_url if "ingest" in down else "http://ingest",
        benchmark_url=down_url if "benchmark" in down else "http://benchmark",
        planner_url=down_url if "planner" in down else "http://planner",
        backend_timeout=2.0,
        **web_overrides,
    )
    web_app = create_web(settings=web_settings, engine=engine, transports=transports)
    async with contextlib.AsyncExitStack() as stack:
        for a in apps.values():
            await stack.enter_async_context(running(a))
            a.state.api_tokens = ApiTokenCache(web_introspector(web_app), ttl=0)
        await stack.enter_async_context(running(web_app))
        web = await stack.enter_async_context(
            httpx.AsyncClient(
                # Each stack its own address, so login throttling per address never
                # carries over from one test to the next.
                transport=httpx.ASGITransport(
                    app=web_app,
                    client=(
                        f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}."
                        f"{uuid.uuid4().int % 250}",
                        5555,
                    ),
                ),
                base_url="http://testserver",
                follow_redirects=False,
            )
        )
        clients = {}
        for n, a in apps.items():
            clients[n] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url=f"http://{n}")
            )
        yield Stack(web=web, web_app=web_app, backends=clients, apps=apps, engine=engine)


@pytest.fixture
async def stack(migrated: str, var_dir: Path, engine: AsyncEngine) -> AsyncIterator[Stack]:
    async with open_stack(migrated, var_dir, engine) as s:
        yield s


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def make_client(engine: AsyncEngine, name: str | None = None) -> Any:
    from services.web import service as web_service

    async with create_sessionmaker(engine)() as s:
        slug = unique("client")
        c = await web_service.create_client(s, name or slug.title(), slug)
        await s.commit()
        return c


async def make_user(
    engine: AsyncEngine,
    role: str = "strategist",
    clients: list[Any] | None = None,
    password: str = PASSWORD,
) -> Any:
    from services.web import service as web_service

    async with create_sessionmaker(engine)() as s:
        email = f"{unique(role)}@example.test"
        u = await web_service.create_user(
            s,
            email=email,
            name=email.split("@")[0],
            password=password,
            role=role,
            client_ids=[c.id for c in clients or []],
        )
        await s.commit()
        return u


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_of(response: httpx.Response) -> str:
    field_ = soup(response).find("input", attrs={"name": "csrf_token"})
    assert field_ is not None, "no csrf_token field on the page"
    return str(field_["value"])


async def login(web: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await web.get("/login")
    assert page.status_code == 200
    return await web.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page), "next": "/"},
    )
