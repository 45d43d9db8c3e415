"""Jobs of the planner: rendering exports, and the daily plan-versus-actual check."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.planner.clients.benchmark import BenchmarkClient
from services.planner.clients.ingest import IngestClient
from services.planner.config import PlannerSettings
from services.planner.exports import content, writers
from services.planner.plans import repository as plan_repo
from services.planner.plans import service as plan_service
from services.planner.plans.models import Plan, PlanVersion
from services.planner.tracking import service as tracking
from services.planner.tracking.models import PlanExport
from services.planner.webhooks.events import announce_at_risk
from shared.auth import Role, mint_service_token
from shared.jobs import CronSpec, JobNames, JobRegistry
from shared.schemas.planner import KpiProgress

log = logging.getLogger("balise.planner.jobs")


def service_token(settings: PlannerSettings, client_ids: list[int]) -> str:
    """A short-lived token for the planner's own calls to ingest and benchmark."""
    return mint_service_token(
        settings.secret_key.get_secret_value(),
        subject="planner",
        kind="service",
        role=Role.service,
        client_ids=client_ids,
        scope="read",
        audience=("ingest", "benchmark"),
    )


async def clients(ctx: dict[str, Any]) -> tuple[IngestClient, BenchmarkClient]:
    """The job context's backend clients (created once per worker, closed at shutdown)."""
    if "ingest" not in ctx:
        settings: PlannerSettings = ctx["settings"]
        transports = ctx.get("transports") or {}
        ctx["ingest"] = IngestClient(
            settings.ingest_url,
            transport=transports.get("ingest"),
            timeout=settings.backend_timeout,
        )
        ctx["benchmark"] = BenchmarkClient(
            settings.benchmark_url,
            transport=transports.get("benchmark"),
            timeout=settings.backend_timeout,
        )
    return ctx["ingest"], ctx["benchmark"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "plan"


async def export_plan(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Render one version as PDF, Markdown or DOCX and store it (``planner_export``)."""
    args = ctx["job"].args
    fmt, locale = args["format"], args.get("locale", "fr_CA")
    progress = ctx["progress"]
    async with ctx["sessionmaker"]() as session:
        v = await session.get(PlanVersion, args["version_id"])
        if v is None:
            raise LookupError(f"plan version {args['version_id']} no longer exists")
        plan = await session.get(Plan, v.plan_id)
        assert plan is not None
        await progress(10, "reading the plan")
        public = plan_service.version_public(plan, v)
        measured = None
        if v.status in ("active", "closed"):
            ingest, _ = await clients(ctx)
            await progress(30, "measuring plan versus actual")
            measured = await tracking.progress(
                ingest, service_token(ctx["settings"], [v.client_id]), plan, v
            )
        await progress(50, "composing the document")
        report = content.build(public, args.get("client_name") or plan.name, locale, measured)
        await progress(70, f"rendering {fmt}")
        if fmt == "pdf":
            data = writers.pdf(report)
        elif fmt == "docx":
            data = writers.docx(report)
        else:
            data = writers.markdown(report).encode()
        name = f"{_slug(plan.name)}-v{v.number}-{locale}.{fmt}"
        row = PlanExport(
            version_id=v.id or 0,
            client_id=v.client_id,
            format=fmt,
            locale=locale,
            filename=name,
            content=data,
        )
        session.add(row)
        await session.commit()
        await progress(100, "done")
        return {"export_id": row.id, "filename": name, "bytes": len(data)}


async def check_kpis(ctx: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Judge every active plan's KPIs; an objective newly at risk raises an alert.

    ``args``: ``client_id`` limits the check to one client, ``as_of`` (ISO date, default
    today) is the day judged. The alerts are queued in the outbox in the same transaction
    as the new statuses, so a failed check neither records nor sends anything.
    """
    args = ctx["job"].args if ctx.get("job") is not None else {}
    as_of = dt.date.fromisoformat(args["as_of"]) if args.get("as_of") else None
    ingest, _ = await clients(ctx)
    alerts = 0
    queued = 0
    checked = 0
    async with ctx["sessionmaker"]() as session:
        versions = await plan_repo.active_versions(
            session, [args["client_id"]] if args.get("client_id") else None
        )
        for v in versions:
            plan = await session.get(Plan, v.plan_id)
            assert plan is not None
            result = await tracking.progress(
                ingest, service_token(ctx["settings"], [v.client_id]), plan, v, as_of
            )
            changed = await tracking.record(session, v, result)
            for k in changed:
                alerts += 1
                queued += await notify_at_risk(session, plan, v, k)
            checked += len(result.kpis)
        await session.commit()
    return {"plans": len(versions), "kpis": checked, "alerts": alerts, "deliveries": queued}


def at_risk_payload(plan: Plan, v: PlanVersion, k: KpiProgress) -> dict[str, Any]:
    """The data of ``planner.kpi.at_risk`` for one objective that left its trajectory."""
    return {
        "client_id": v.client_id,
        "plan_id": plan.id,
        "version_id": v.id,
        "objective_id": k.objective_id,
        "kpi": k.kpi,
        "network": k.network.value if k.network else None,
        "status": k.status.value,
        "baseline": k.baseline,
        "target": k.target,
        "expected": k.expected,
        "actual": k.actual,
        "as_of": k.as_of.isoformat(),
    }


async def notify_at_risk(session: AsyncSession, plan: Plan, v: PlanVersion, k: KpiProgress) -> int:
    """Queue ``planner.kpi.at_risk`` for the client's subscribers in the check's
    transaction (sent by the dispatcher once it commits); returns the deliveries queued."""
    payload = at_risk_payload(plan, v, k)
    n = await announce_at_risk(session, v.client_id, payload)
    log.info(
        "planner.kpi.at_risk for version %s objective %s: %s deliveries queued",
        v.id,
        k.objective_id,
        n,
    )
    return n


def register(registry: JobRegistry, settings: PlannerSettings | None = None) -> None:
    registry.register(JobNames.PLANNER_EXPORT)(export_plan)
    registry.register(JobNames.PLANNER_KPI_CHECK)(check_kpis)
    hour = settings.kpi_check_hour if settings is not None else 6
    registry.cron.append(CronSpec(JobNames.PLANNER_KPI_CHECK, hour=hour, minute=15))

    async def shutdown(ctx: dict[str, Any]) -> None:
        for name in ("ingest", "benchmark"):
            client = ctx.pop(name, None)
            if client is not None:
                await client.aclose()

    registry.shutdown = shutdown
