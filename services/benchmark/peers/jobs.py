"""The benchmark computation job (``benchmark.compute_peer_benchmark``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.benchmark.clients.ingest import IngestClient, service_token
from services.benchmark.jobs import registry
from services.benchmark.peers import service
from services.benchmark.peers.models import PeerGroup
from shared.jobs import JobNames


@registry.register(JobNames.BENCHMARK_COMPUTE)
async def compute_peer_benchmark(ctx: dict[str, Any], job_id: str) -> Mapping[str, Any]:
    """Compute and store a new version of a group's benchmark.

    Args (``job.args``): ``group_id``, ``start``, ``end`` (ISO dates, inclusive). Reads
    everything from ingest with a service token for the group's client. Result:
    ``{"result_id", "version", "kpis"}``.
    """
    args = ctx["job"].args
    ingest: IngestClient = ctx["ingest"]
    secret = ctx["settings"].secret_key.get_secret_value()
    async with ctx["sessionmaker"]() as session:
        group = await session.get(PeerGroup, int(args["group_id"]))
        if group is None:
            raise LookupError(f"peer group {args['group_id']} no longer exists")
        token = service_token(secret, [group.client_id])
        row = await service.compute_result(
            session,
            group,
            dt.date.fromisoformat(args["start"]),
            dt.date.fromisoformat(args["end"]),
            ingest,
            token,
            ctx["progress"],
            job_id=job_id,
            concurrency=ctx["settings"].ingest_concurrency,
        )
        await session.commit()
        return {"result_id": row.id, "version": row.version, "kpis": len(row.payload["kpis"])}
