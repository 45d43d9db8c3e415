"""Step 1, Analyse: the audit page, its exports and the PDF report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web import audit_tables
from services.web.dependencies import ClientDep, IngestClientDep, ViewerDep
from services.web.i18n import Translator
from services.web.panels import panel
from services.web.templating import render
from shared import charts
from shared.errors import Invalid, NotFound, ServiceUnavailable
from shared.http import BackendNotFound, BackendRejected, BackendUnavailable
from shared.schemas.audit import AuditReport, AuditReportRequest

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

DAYS = audit_tables.DAYS


async def _backend(call: Awaitable[T]) -> T:
    """A backend call whose failure answers the whole request (downloads, exports)."""
    try:
        return await call
    except BackendUnavailable as exc:
        raise ServiceUnavailable(f"{exc.service} is unavailable right now; try again.") from exc
    except BackendNotFound as exc:
        raise NotFound(str(exc)) from exc
    except BackendRejected as exc:
        raise Invalid(str(exc)) from exc


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    if start and end and start > end:
        raise Invalid("The period's start is after its end.")
    return start, end


def _charts(report: AuditReport, t: Translator) -> dict[str, Any]:
    """The page's SVG charts (server-rendered, see shared.charts)."""
    no = t("No data")
    out: dict[str, Any] = {"accounts": {}}
    if report.networks:
        names = [audit_tables.network_name(n.network.value) for n in report.networks]
        out["networks_er"] = charts.grouped_bar_chart(
            names,
            {
                t("Previous period"): [
                    n.engagement_rate_by_follower.previous for n in report.networks
                ],
                t("Current period"): [
                    n.engagement_rate_by_follower.current for n in report.networks
                ],
            },
            title=t("Engagement rate by follower per network"),
            value_format=t.percent,
            no_data=no,
        )
        out["networks_posts"] = charts.grouped_bar_chart(
            names,
            {
                t("Previous period"): [n.posts.previous for n in report.networks],
                t("Current period"): [n.posts.current for n in report.networks],
            },
            title=t("Posts per network"),
            value_format=lambda v: t.number(v, 0),
            no_data=no,
        )
    for a in report.accounts:
        label = a.account.name or a.account.handle or a.account.external_id
        out["accounts"][a.account.id] = {
            "followers": charts.line_chart(
                [charts.Series(label, [(p.day, p.value) for p in a.followers_series])],
                title=t("Followers of {name}", name=label),
                value_format=lambda v: t.number(v, 0),
                no_data=no,
            ),
            "types": charts.bar_chart(
                [t(g.key) for g in a.by_content_type],
                [g.engagement_rate_by_follower for g in a.by_content_type],
                title=t("Engagement rate by follower per content type, {name}", name=label),
                value_format=t.percent,
                no_data=no,
            ),
        }
    days = [t(d) for d in DAYS]
    hours = [str(h) for h in range(24)]
    out["heatmap"] = charts.heatmap(
        [[v or None for v in row] for row in report.posting_heatmap],
        row_labels=days,
        col_labels=hours,
        title=t("Posts by day and hour (local time)"),
        value_format=lambda v: t.number(v, 0),
        no_data=no,
    )
    out["heatmap_rate"] = charts.heatmap(
        report.heatmap_rate,
        row_labels=days,
        col_labels=hours,
        title=t("Engagement rate by follower by day and hour (3 posts or more)"),
        value_format=t.percent,
        no_data=no,
    )
    out["website"] = {
        s.account_id: charts.bar_chart(
            [audit_tables.network_name(x.network) for x in s.by_network],
            [x.sessions for x in s.by_network],
            title=t("Sessions by social network"),
            value_format=lambda v: t.number(v, 0),
            no_data=no,
        )
        for s in report.website
    }
    return out


@router.get("/c/{slug}/analyse", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: Literal["previous", "year"] = "previous",
) -> Response:
    start, end = _period(start, end)
    t: Translator = request.state.t
    p = await panel(
        "ingest",
        ingest.audit(viewer.token(), client.id or 0, start=start, end=end, compare=compare),
    )
    ctx: dict[str, Any] = {"panel": p, "compare": compare, "report": p.data}
    if p.ok and p.data is not None:
        report: AuditReport = p.data
        ctx["tables"] = audit_tables.build(report, t)
        ctx["charts"] = _charts(report, t)
        ctx["finding_text"] = lambda f: audit_tables.finding_text(f, t)
        ctx["evidence_texts"] = lambda f: audit_tables.evidence_texts(f, t)
        ctx["query"] = f"start={report.start}&end={report.end}&compare={compare}"
    ctx["cell"] = lambda v, kind: audit_tables.cell_text(v, kind, t)
    return render(request, "audit/index.html", ctx, block="content")


@router.get("/c/{slug}/analyse/export/{table}.{fmt}")
async def audit_export(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    table: str,
    fmt: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare: Literal["previous", "year"] = "previous",
) -> Response:
    if fmt not in audit_tables.EXPORTERS:
        raise NotFound(f"No export format {fmt!r}")
    start, end = _period(start, end)
    report = await _backend(
        ingest.audit(viewer.token(), client.id or 0, start=start, end=end, compare=compare)
    )
    tables = audit_tables.build(report, request.state.t)
    if table not in tables:
        raise NotFound(f"No table {table!r}")
    write, media = audit_tables.EXPORTERS[fmt]
    name = f"{client.slug}-{table}-{report.start}-{report.end}.{fmt}"
    return Response(
        write(tables[table]),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/c/{slug}/analyse/report", response_class=HTMLResponse)
async def audit_report(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    ingest: IngestClientDep,
    locale: Annotated[Literal["fr_CA", "en"], Form()] = "fr_CA",
    start: Annotated[dt.date | None, Form()] = None,
    end: Annotated[dt.date | None, Form()] = None,
    compare: Annotated[Literal["previous", "year"], Form()] = "previous",
) -> Response:
    body = AuditReportRequest(start=start, end=end, compare=compare, locale=locale)
    p = await panel(
        "ingest",
        ingest.request_audit_report(viewer.token(), client.id or 0, body, client.name),
    )
    if not p.ok or p.data is None:
        return render(request, "audit/_report_job.html", {"job": None, "panel": p})
    job_panel = await panel("ingest", ingest.job(viewer.token(), p.data.job_id))
    return render(request, "audit/_report_job.html", {"job": job_panel.data, "panel": job_panel})


@router.get("/c/{slug}/analyse/report/{job_id}", response_class=HTMLResponse)
async def audit_report_status(
    request: Request, viewer: ViewerDep, client: ClientDep, ingest: IngestClientDep, job_id: str
) -> Response:
    p = await panel("ingest", ingest.job(viewer.token(), job_id))
    if p.status == 404 or (p.data is not None and p.data.client_id != client.id):
        raise NotFound(f"No report {job_id}")
    return render(request, "audit/_report_job.html", {"job": p.data, "panel": p})


@router.get("/c/{slug}/analyse/report/{job_id}/download")
async def audit_report_download(
    viewer: ViewerDep, client: ClientDep, ingest: IngestClientDep, job_id: str
) -> Response:
    content, name = await _backend(ingest.audit_report_pdf(viewer.token(), client.id or 0, job_id))
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
