"""The service app factory shared by the four services.

:func:`create_service_app` gives every service the same skeleton: a lifespan that owns
the engine, the job queue (arq pool or in-process runner), the token cache and whatever
the service adds; ``/healthz``, ``/readyz`` and ``/metrics``; problem+json errors; the
request-id, body-limit and metrics middleware; JSON logs.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from shared import db
from shared.auth import ApiTokenCache, Role, mint_service_token
from shared.errors import install_problem_handlers
from shared.jobs import InProcessRunner, JobQueue, JobRegistry, base_context
from shared.logging import configure_logging
from shared.middleware import BaliseMiddleware, Metrics
from shared.settings import ServiceSettings

log = logging.getLogger("balise.app")

LifespanHook = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


def _ops_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok", "service": request.app.state.service_name}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        checks: dict[str, str] = {}
        ok = True
        try:
            await db.ping(state.engine)
            checks["database"] = "ok"
        except Exception as exc:
            ok = False
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if checks["database"] == "ok":
            try:
                await db.check_schema(state.engine)
                checks["schema"] = "at head"
            except db.SchemaBehind as exc:
                ok = False
                checks["schema"] = str(exc)
        redis = getattr(state, "redis", None)
        if redis is not None:
            try:
                await redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                ok = False
                checks["redis"] = f"unreachable: {type(exc).__name__}"
        else:
            checks["redis"] = "not configured (in-process jobs)"
        body = {"status": "ready" if ok else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        registry = request.app.state.metrics.registry
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


#: the youngest generation's threshold once started (CPython's default is 700)
GC_GEN0_THRESHOLD = 7000


def settle_heap() -> None:
    """Tune the cycle collector for a long-running server, once its startup is done.

    What exists by then (modules, models, OpenAPI schemas, compiled SQL) lives as long
    as the process, yet every full collection walked all of it:
    under a load of metric pushes the collector took a fifth of the ingest process's time
    (3.7 s of 17). ``gc.freeze()`` moves those objects out of the collector's sight, and
    the youngest generation is collected after 7,000 net allocations instead of 700: a
    request's objects die by reference count, they rarely need the cycle collector. The
    same load then spent 0.03 s in it.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])


def create_service_app(
    *,
    service: str,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    registry: JobRegistry | None = None,
    lifespan_hook: LifespanHook | None = None,
    introspect_url: str | None = None,
    engine: AsyncEngine | None = None,
    version: str = "0.1.0",
    fast_routes: Sequence[BaseRoute] = (),
) -> FastAPI:
    """Build one service's app. ``engine`` may be passed by tests to share a database.

    ``fast_routes`` are plain Starlette routes tried before FastAPI's (the hottest paths,
    each also declared on a router for the OpenAPI document and for any request they
    leave to it).
    """

    metrics = Metrics(service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(service, settings.log_level, settings.log_json)
        own_engine = engine is None
        eng = engine or db.engine_from_settings(settings)
        app.state.engine = eng
        app.state.sessionmaker = db.create_sessionmaker(eng)
        app.state.read_sessionmaker = db.create_read_sessionmaker(eng)
        # The few hottest reads skip the ORM and SQLAlchemy's pool (tests hand a reader
        # of their own transaction here).
        reader = db.HotReader(eng, size=settings.db_hot_pool_size)
        app.state.reader = reader
        if settings.check_schema_on_start:
            try:
                await db.check_schema(eng)
            except db.SchemaBehind as exc:
                log.error("%s", exc)
                if own_engine:
                    await eng.dispose()
                raise SystemExit(f"[{service}] {exc}") from None
        stack = contextlib.AsyncExitStack()
        runner: InProcessRunner | None = None
        app.state.redis = None
        try:
            await reader.start()
            stack.push_async_callback(reader.close)
            if introspect_url is not None:
                app.state.api_tokens = ApiTokenCache(
                    _introspector(service, settings, introspect_url),
                    ttl=float(getattr(settings, "auth_cache_seconds", 10)),
                )
            if registry is not None:
                if settings.redis_url:
                    from arq import create_pool
                    from arq.connections import RedisSettings

                    pool = await create_pool(
                        RedisSettings.from_dsn(settings.redis_url),
                        default_queue_name=registry.queue,
                    )
                    stack.push_async_callback(pool.aclose)
                    app.state.redis = pool
                    app.state.queue = JobQueue(registry, arq_pool=pool)
                elif settings.run_jobs_in_process:
                    runner = _runner(registry, settings, metrics)
                    runner.start()
                    app.state.queue = JobQueue(registry, runner=runner)
                else:
                    app.state.queue = JobQueue(registry)
                app.state.runner = runner
            if lifespan_hook is not None:
                await stack.enter_async_context(lifespan_hook(app))
            if settings.gc_freeze:
                settle_heap()
            log.info("%s ready", service)
            yield
        finally:
            await stack.aclose()
            if runner is not None:
                runner.stop()
            if own_engine:
                await eng.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        # FastAPI's native OpenTelemetry looks up the global providers (and the
        # environment) on every request, ~10% of a small request's time; Balise's
        # observability is its own Prometheus metrics and JSON logs.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.service_name = service
    app.state.settings = settings
    app.state.secret = settings.secret_key.get_secret_value()
    app.state.metrics = metrics
    install_problem_handlers(app)
    app.include_router(_ops_router())
    for r in routers:
        app.include_router(r)
    app.router.routes[0:0] = list(fast_routes)
    app.add_middleware(
        BaliseMiddleware,
        service=service,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=getattr(settings, "max_upload_bytes", settings.max_body_bytes),
    )
    return app


def _runner(registry: JobRegistry, settings: ServiceSettings, metrics: Metrics) -> InProcessRunner:
    async def make_ctx() -> dict[str, Any]:
        eng = db.engine_from_settings(settings)
        ctx = await base_context(registry, settings, eng, db.create_sessionmaker(eng), metrics)
        # Jobs and schedules that start other jobs (a daily sync) submit them here too.
        ctx["queue"] = JobQueue(registry, runner=runner)
        return ctx

    async def close_ctx(ctx: dict[str, Any]) -> None:
        if registry.shutdown:
            await registry.shutdown(ctx)
        await ctx["engine"].dispose()

    runner = InProcessRunner(registry, make_ctx, close_ctx)

    return runner


def _introspector(service: str, settings: ServiceSettings, url: str) -> Any:
    """Ask web whether an API token is active; web authenticates us by a service token."""
    import httpx

    from shared.http import fast_transport

    client: httpx.AsyncClient | None = None
    secret = settings.secret_key.get_secret_value()

    async def introspect(token: str) -> dict[str, Any] | None:
        nonlocal client
        if client is None:
            client = httpx.AsyncClient(base_url=url, transport=fast_transport(20), timeout=5)
        own = mint_service_token(
            secret,
            subject=service,
            kind="service",
            role=Role.service,
            client_ids=[],
            audience=["web"],
            ttl=60,
        )
        resp = await client.post(
            "/internal/v1/introspect",
            json={"token": token},
            headers={"Authorization": f"Bearer {own}"},
        )
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    return introspect
