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


@factory("ingest", "connection_id")
async def _connection(session: AsyncSession, client_id: int) -> int:
    from services.ingest.connections.models import Connection

    conn = Connection(
        client_id=client_id,
        provider="matomo",
        auth_kind="token",
        networks=["matomo"],
        accounts=[{"network": "matomo", "external_id": "1", "account_id": None, "name": None}],
        extra={"base_url": "https://stats.example.org"},
        access_token_enc="not-a-real-ciphertext",
    )
    session.add(conn)
    await session.flush()
    assert conn.id is not None
    return conn.id


def _webhook_factories(service: str) -> None:
    """Subscriptions and deliveries of a backend's outbox (see shared/outbox.py)."""
    import importlib

    async def subscription(session: AsyncSession, client_id: int) -> int:
        outbox = importlib.import_module(f"services.{service}.webhooks.events").outbox
        sub = outbox.Subscription(
            client_id=client_id,
            url="https://93.184.215.14/hook",
            event_types=sorted(outbox.events)[:1],
            secret_encrypted="not-a-real-ciphertext",
        )
        session.add(sub)
        await session.flush()
        return int(sub.id)

    async def delivery(session: AsyncSession, client_id: int) -> int:
        outbox = importlib.import_module(f"services.{service}.webhooks.events").outbox
        sub_id = await subscription(session, client_id)
        row = outbox.Delivery(
            msg_id="msg_tenancy", client_id=client_id, event_type="webhook.ping", payload="{}"
        )
        row.subscription_id = sub_id
        row.status = "failed"
        session.add(row)
        await session.flush()
        return int(row.id)

    FACTORIES[service]["sub_id"] = subscription
    FACTORIES[service]["delivery_id"] = delivery


_webhook_factories("ingest")
_webhook_factories("benchmark")
_webhook_factories("planner")
# ---------------------------------------------------------------------------- planner


async def _planner_version(session: AsyncSession, client_id: int) -> Any:
    """Client B's plan with one version holding an audience and an animator (cached)."""
    import datetime as dt

    from services.planner.plans.models import Plan, PlanVersion
    from shared.schemas.planner import Animator, Audience, PlanDocument

    cached = session.info.get(("planner_version", client_id))
    if cached is not None:
        return cached
    plan = Plan(
        client_id=client_id,
        name="B's plan",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
    )
    session.add(plan)
    await session.flush()
    doc = PlanDocument(
        audiences=[Audience(id="aud-b", name="B")],
        animators=[Animator(id="ani-b", name="B", hours_per_week=5)],
    )
    v = PlanVersion(
        plan_id=plan.id or 0, client_id=client_id, number=1, document=doc.model_dump(mode="json")
    )
    session.add(v)
    await session.flush()
    session.info[("planner_version", client_id)] = v
    return v


@factory("planner", "plan_id")
async def _plan_id(session: AsyncSession, client_id: int) -> int:
    return int((await _planner_version(session, client_id)).plan_id)


@factory("planner", "version_id")
async def _version_id(session: AsyncSession, client_id: int) -> int:
    return int((await _planner_version(session, client_id)).id)


@factory("planner", "number")
async def _version_number(session: AsyncSession, client_id: int) -> int:
    return int((await _planner_version(session, client_id)).number)


@factory("planner", "item_id")
async def _item_id(session: AsyncSession, client_id: int) -> str:
    await _planner_version(session, client_id)
    return "aud-b"


@factory("planner", "animator_id")
async def _animator_id(session: AsyncSession, client_id: int) -> str:
    await _planner_version(session, client_id)
    return "ani-b"


@factory("planner", "export_id")
async def _export_id(session: AsyncSession, client_id: int) -> int:
    from services.planner.tracking.models import PlanExport

    v = await _planner_version(session, client_id)
    row = PlanExport(
        version_id=v.id,
        client_id=client_id,
        format="md",
        locale="en",
        filename="b.md",
        content=b"# B",
    )
    session.add(row)
    await session.flush()
    return int(row.id or 0)


@factory("ingest", "import_id")
async def _import(session: AsyncSession, client_id: int) -> int:
    from services.ingest.imports.models import Import

    imp = Import(client_id=client_id, file_name="b.csv", sha256="b" * 64, status="needs_mapping")
    session.add(imp)
    await session.flush()
    assert imp.id is not None
    return imp.id


@factory("ingest", "mapping_id")
async def _column_mapping(session: AsyncSession, client_id: int) -> int:
    from services.ingest.imports.models import ColumnMappingRow

    row = ColumnMappingRow(
        client_id=client_id,
        name="b",
        header_signature="b" * 64,
        header=["Date", "Followers"],
        mapping={
            "kind": "daily",
            "network": "facebook",
            "columns": {"Date": "date", "Followers": "metric:followers"},
        },
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


# ---------------------------------------------------------------------------- benchmark


async def _peer_group(session: AsyncSession, client_id: int) -> Any:
    """Client B's peer group with one peer, one account and one result (cached)."""
    import datetime as dt

    from services.benchmark.peers.models import BenchmarkResultRow, Peer, PeerAccount, PeerGroup

    cached = session.info.get(("peer_group", client_id))
    if cached is not None:
        return cached
    group = PeerGroup(client_id=client_id, name="B's peers")
    session.add(group)
    await session.flush()
    peer = Peer(group_id=group.id or 0, client_id=client_id, name="B's peer")
    session.add(peer)
    await session.flush()
    account = PeerAccount(
        peer_id=peer.id or 0, client_id=client_id, network="instagram", external_id="b"
    )
    result = BenchmarkResultRow(
        client_id=client_id,
        peer_group_id=group.id or 0,
        version=1,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 12, 31),
    )
    session.add_all([account, result])
    await session.flush()
    # A stored result is the whole contract document (as the compute job writes it).
    result.payload = {
        "id": result.id,
        "version": 1,
        "client_id": client_id,
        "peer_group_id": group.id,
        "start": "2025-01-01",
        "end": "2025-12-31",
        "computed_at": result.computed_at.isoformat(),
        "kpis": [],
    }
    session.add(result)
    await session.flush()
    out = {"group": group.id, "peer": peer.id, "account": account.id, "result": result.id}
    session.info[("peer_group", client_id)] = out
    return out


@factory("benchmark", "group_id")
async def _group_id(session: AsyncSession, client_id: int) -> int:
    return int((await _peer_group(session, client_id))["group"])


@factory("benchmark", "peer_id")
async def _peer_id(session: AsyncSession, client_id: int) -> int:
    return int((await _peer_group(session, client_id))["peer"])


@factory("benchmark", "account_id")
async def _peer_account_id(session: AsyncSession, client_id: int) -> int:
    return int((await _peer_group(session, client_id))["account"])


@factory("benchmark", "result_id")
async def _result_id(session: AsyncSession, client_id: int) -> int:
    return int((await _peer_group(session, client_id))["result"])


@factory("benchmark", "relay_id")
async def _relay_id(session: AsyncSession, client_id: int) -> int:
    """A relay shortlisted for client B (the directory itself is agency-wide)."""
    from services.benchmark.relays.models import Relay, Shortlist

    relay = Relay(name="B's relay")
    session.add(relay)
    await session.flush()
    session.add(Shortlist(client_id=client_id, relay_id=relay.id or 0))
    await session.flush()
    return int(relay.id or 0)


BODIES[("benchmark", "POST", "/v1/peers/{peer_id}/accounts")] = {
    "network": "instagram",
    "handle": "someone",
}
