"""Resources of a tenant, for the tenancy walker.

The walker calls every route of every backend's OpenAPI spec as client A against client
B's resources. For each path parameter it needs one of B's resources: register a factory
here, keyed by the parameter's name. A factory receives the test session and B's client
id and returns the id to put in the path (it creates the resource in B's tenancy).

``BODIES`` gives a request body for operations whose body the generic generator (which
builds a minimal valid body from the JSON schema) cannot produce.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

Factory = Callable[[AsyncSession, int], Awaitable[Any]]
FACTORIES: dict[str, dict[str, Factory]] = {"ingest": {}, "benchmark": {}, "planner": {}, "web": {}}
BODIES: dict[tuple[str, str, str], Any] = {}


def factory(service: str, param: str) -> Callable[[Factory], Factory]:
    def deco(fn: Factory) -> Factory:
        FACTORIES[service][param] = fn
        return fn

    return deco


def _job_factory(service: str) -> Factory:
    async def make(session: AsyncSession, client_id: int) -> str:
        import importlib

        models = importlib.import_module(f"services.{service}.models")
        model = getattr(models, f"{service.capitalize()}Job")
        job = model(name=f"{service}.test", client_id=client_id, status="failed", error="x")
        session.add(job)
        await session.flush()
        return str(job.id)

    return make


for _svc in ("ingest", "benchmark", "planner"):
    FACTORIES[_svc]["job_id"] = _job_factory(_svc)


@factory("ingest", "client_id")
@factory("benchmark", "client_id")
@factory("planner", "client_id")
async def _client_id(session: AsyncSession, client_id: int) -> int:
    return client_id


@factory("ingest", "account_id")
async def _account(session: AsyncSession, client_id: int) -> int:
    from services.ingest.store.models import Account

    account = Account(
        client_id=client_id,
        scope_key=str(client_id),
        owner_kind="client",
        network="facebook",
        external_id=f"page-{client_id}",
    )
    session.add(account)
    await session.flush()
    assert account.id is not None
    return account.id
