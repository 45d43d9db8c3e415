"""Step 2 in the browser: peer groups, the benchmark table with its charts, best practices.

The relay directory's pages are in :mod:`services.web.routers.benchmark_relays`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.web.dependencies import BenchmarkClientDep, ClientDep, ViewerDep
from services.web.panels import panel, panels
from services.web.templating import hx_redirect, render
from shared import charts
from shared.errors import NotFound
from shared.http import BackendNotFound, BackendRejected
from shared.schemas.benchmark import BenchmarkResultFull, KpiDistribution
from shared.schemas.ingest import SOCIAL_NETWORKS

router = APIRouter(include_in_schema=False)

KPI_LABELS = {
    "followers": "Audience (followers)",
    "follower_growth_pct": "Follower growth",
    "posts_per_week": "Posts per week",
    "engagement_rate_by_follower": "Engagement rate per post (by follower)",
    "engagement_rate_by_view": "Engagement rate per post (by view)",
}
RATIO_KPIS = {"follower_growth_pct", "engagement_rate_by_follower", "engagement_rate_by_view"}
NETWORKS = [n.value for n in SOCIAL_NETWORKS]
_ACCOUNT = re.compile(r"^\s*([a-z]+)\s*[:\s]\s*(\S+)\s*$")


def base(client: Any) -> str:
    return f"/c/{client.slug}/benchmark"


def parse_accounts(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """Lines of ``network: handle`` (or ``network handle``) → accounts, and the bad lines."""
    accounts, bad = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _ACCOUNT.match(line.casefold())
        if not m or m.group(1) not in NETWORKS:
            bad.append(line.strip())
            continue
        handle = line.strip()[len(m.group(1)) :].strip(" :\t")
        accounts.append({"network": m.group(1), "handle": handle})
    return accounts, bad


def kpi_charts(result: BenchmarkResultFull) -> list[dict[str, Any]]:
    """One quartile chart per KPI: a row per network, the client's value marked."""
    out = []
    for kpi, label in KPI_LABELS.items():
        rows: list[charts.Quartiles] = []
        for k in result.kpis:
            if k.kpi != kpi or k.p25 is None or k.p50 is None or k.p75 is None:
                continue
            vals = [v for v in k.peer_values.values() if v is not None]
            rows.append(
                charts.Quartiles(
                    label=k.network.value,
                    low=min(vals),
                    q1=k.p25,
                    median=k.p50,
                    q3=k.p75,
                    high=max(vals),
                    marked=k.client_value,
                    marked_label="client",
                )
            )
        if rows:
            fmt = charts.pct if kpi in RATIO_KPIS else charts.plain
            out.append(
                {
                    "kpi": kpi,
                    "label": label,
                    "svg": charts.quartile_bars(rows, title=label, value_format=fmt),
                }
            )
    return out


def by_network(result: BenchmarkResultFull) -> dict[str, list[KpiDistribution]]:
    """KPIs per network; each KPI keeps the newest figure of each published series."""
    out: dict[str, list[KpiDistribution]] = {}
    for k in result.kpis:
        seen: set[str] = set()
        latest = []
        for f in k.industry:  # newest first
            series = f.source.split(",")[0].split(" 20")[0]
            if series not in seen:
                seen.add(series)
                latest.append(f)
        out.setdefault(k.network.value, []).append(k.model_copy(update={"industry": latest}))
    return out


def heatmaps(result: BenchmarkResultFull) -> list[dict[str, Any]]:
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    out = []
    for pt in result.posting_times:
        if not any(any(r) for r in pt.peers):
            continue
        out.append(
            {
                "network": pt.network.value,
                "top": pt.peers_top_slots,
                "svg": charts.heatmap(
                    [[float(v) for v in row] for row in pt.peers],
                    row_labels=days,
                    col_labels=[str(h) for h in range(24)],
                    title=f"Peers' posts by weekday and hour ({pt.network.value})",
                ),
            }
        )
    return out


@router.get("/c/{slug}/benchmark", response_class=HTMLResponse)
async def index(
    request: Request, viewer: ViewerDep, client: ClientDep, benchmark: BenchmarkClientDep
) -> Response:
    p = await panel("benchmark", benchmark.peer_groups(viewer.token(), client.id or 0))
    return render(
        request,
        "benchmark/index.html",
        {"groups": p, "base": base(client), "form_error": None, "form": {}},
        block="content",
    )


@router.post("/c/{slug}/benchmark/groups", response_class=HTMLResponse)
async def create_group(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    name: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        g = await benchmark.create_group(
            viewer.token(),
            client.id or 0,
            {"name": name, "description": description or None},
        )
    except BackendRejected as exc:
        p = await panel("benchmark", benchmark.peer_groups(viewer.token(), client.id or 0))
        return render(
            request,
            "benchmark/index.html",
            {
                "groups": p,
                "base": base(client),
                "form_error": str(exc),
                "form": {"name": name, "description": description},
            },
            status_code=exc.status or 422,
            block="content",
        )
    return hx_redirect(f"{base(client)}/groups/{g['id']}", request)


async def _group_page(
    request: Request,
    viewer: Any,
    client: Any,
    benchmark: Any,
    group_id: int,
    *,
    result_id: int | None = None,
    form_error: str | None = None,
    job: Any = None,
    status_code: int = 200,
) -> Response:
    token = viewer.token()
    loaded = await panels(
        {
            "benchmark:group": benchmark.peer_group(token, group_id),
            "benchmark:results": benchmark.results(token, group_id),
        }
    )
    group = loaded["benchmark:group"]
    if group.status == 404 or (group.data is not None and group.data["client_id"] != client.id):
        raise NotFound(f"No peer group {group_id}")
    versions = loaded["benchmark:results"]
    result = None
    if result_id is None and versions.ok and versions.data:
        result_id = versions.data[0]["id"]
    if result_id is not None:
        result = await panel("benchmark", benchmark.result(token, result_id))
        if result.status == 404 or (
            result.data is not None and result.data.peer_group_id != group_id
        ):
            raise NotFound(f"No benchmark result {result_id}")
    res = result.data if result and result.ok else None
    return render(
        request,
        "benchmark/group.html",
        {
            "group": group,
            "versions": versions,
            "result_panel": result,
            "result": res,
            "charts": kpi_charts(res) if res else [],
            "tables": by_network(res) if res else {},
            "heatmaps": heatmaps(res) if res else [],
            "kpi_labels": KPI_LABELS,
            "ratio_kpis": RATIO_KPIS,
            "networks": NETWORKS,
            "base": base(client),
            "form_error": form_error,
            "job": job,
            "editable": viewer.user.role != "client_viewer",
        },
        status_code=status_code,
        block="content",
    )


@router.get("/c/{slug}/benchmark/groups/{group_id}", response_class=HTMLResponse)
async def group_page(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    group_id: int,
    version: int | None = None,
    job: str | None = None,
) -> Response:
    running = None
    if job:
        running = await panel("benchmark", benchmark.job(viewer.token(), job))
    return await _group_page(
        request, viewer, client, benchmark, group_id, result_id=version, job=running
    )


@router.post("/c/{slug}/benchmark/groups/{group_id}/peers", response_class=HTMLResponse)
async def add_peer(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    group_id: int,
    name: Annotated[str, Form(max_length=200)],
    accounts: Annotated[str, Form(max_length=5000)] = "",
    website: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    parsed, bad = parse_accounts(accounts)
    error = None
    if bad:
        error = request.state.t(
            "Not understood: {lines}. Write one account per line as network: handle.",
            lines=", ".join(bad),
        )
    else:
        try:
            await benchmark.add_peer(
                viewer.token(),
                group_id,
                {"name": name, "website": website or None, "accounts": parsed},
            )
        except BackendNotFound as exc:
            raise NotFound(f"No peer group {group_id}") from exc
        except BackendRejected as exc:
            error = str(exc)
    if error:
        return await _group_page(
            request, viewer, client, benchmark, group_id, form_error=error, status_code=422
        )
    return hx_redirect(f"{base(client)}/groups/{group_id}", request)


@router.post(
    "/c/{slug}/benchmark/groups/{group_id}/peers/{peer_id}/delete", response_class=HTMLResponse
)
async def delete_peer(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    group_id: int,
    peer_id: int,
) -> Response:
    group = await benchmark.peer_group(viewer.token(), group_id)
    if group["client_id"] != client.id or peer_id not in {p["id"] for p in group["members"]}:
        raise NotFound(f"No peer {peer_id}")
    await benchmark.delete_peer(viewer.token(), peer_id)
    return hx_redirect(f"{base(client)}/groups/{group_id}", request)


@router.post("/c/{slug}/benchmark/groups/{group_id}/compute", response_class=HTMLResponse)
async def compute(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    group_id: int,
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    body = {"start": start, "end": end} if start and end else {}
    try:
        accepted = await benchmark.compute(viewer.token(), group_id, body)
    except BackendRejected as exc:
        return await _group_page(
            request, viewer, client, benchmark, group_id, form_error=str(exc), status_code=422
        )
    if request.headers.get("hx-request") != "true":
        return hx_redirect(f"{base(client)}/groups/{group_id}?job={accepted.job_id}", request)
    job = await panel("benchmark", benchmark.job(viewer.token(), accepted.job_id))
    return render(
        request,
        "components/_job.html",
        {"job": job.data, "service": "benchmark", "panel": job},
    )


@router.post(
    "/c/{slug}/benchmark/groups/{group_id}/peers/{peer_id}/accounts/{account_id}/import",
    response_class=HTMLResponse,
)
async def import_peer_data(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    group_id: int,
    peer_id: int,
    account_id: int,
    file: Annotated[UploadFile, File()],
) -> Response:
    """A peer's data exported from another tool, handed to ingest's import pipeline."""
    data = await file.read(50 * 1024 * 1024 + 1)
    try:
        imp: dict[str, Any] | None = await benchmark.import_peer_data(
            viewer.token(), peer_id, account_id, file.filename or "export.csv", data
        )
        error = None
    except BackendNotFound as exc:
        raise NotFound(f"No account {account_id} on peer {peer_id}") from exc
    except BackendRejected as exc:
        imp, error = None, str(exc)
    return render(
        request,
        "benchmark/_peer_import.html",
        {"imp": imp, "error": error},
        status_code=422 if error else 200,
    )
