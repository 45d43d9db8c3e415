"""The rescoring job (``benchmark.rescore_relays``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.benchmark.clients.ingest import IngestClient, service_token
from services.benchmark.jobs import registry
from services.benchmark.scoring import service
from services.benchmark.webhooks.events import announce_scores_updated
from shared.jobs import JobNames


@registry.register(JobNames.BENCHMARK_RESCORE)
async def rescore_relays(ctx: dict[str, Any], job_id: str) -> Mapping[str, Any]:
    """Rescore the whole directory, then each client's relevance; one versioned run.

    Args (``job.args``): ``as_of`` (ISO date, optional: yesterday), ``reason`` (text).
    Reads ingest with a service token (relays' accounts are agency-wide). Result:
    ``{"run_id", "relays", "data_path"}``.
    """
    args = ctx["job"].args
    ingest: IngestClient = ctx["ingest"]
    secret = ctx["settings"].secret_key.get_secret_value()
    as_of = dt.date.fromisoformat(args["as_of"]) if args.get("as_of") else None
    async with ctx["sessionmaker"]() as session:
        run = await service.rescore(
            session,
            ingest,
            service_token(secret, []),
            ctx["progress"],
            as_of=as_of,
            job_id=job_id,
        )
        result = {
            "run_id": run.id,
            "relays": run.relays,
            "settings_version": run.settings_version,
        }
        await announce_scores_updated(
            session,
            {
                **result,
                "as_of": run.window_end.isoformat(),
                "reason": args.get("reason", ""),
            },
        )
        await session.commit()
        return result
