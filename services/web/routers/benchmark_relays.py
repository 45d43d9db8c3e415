"""Step 2 in the browser, relays: the directory with filters and score explanations, the
relay profile, the client's shortlist and co-creators, themes, weights and directory tools
(CSV import and export, duplicates).

The directory is agency data: a client viewer's pages never show it (the backend answers
404 to such a token, and the pages say the directory is for agency staff).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.web.dependencies import BenchmarkClientDep, ClientDep, ViewerDep
from services.web.panels import panel, panels
from services.web.routers.benchmark import NETWORKS, base
from services.web.templating import hx_redirect, render
from shared.errors import Forbidden, NotFound
from shared.http import BackendNotFound, BackendRejected

router = APIRouter(include_in_schema=False)

STATUSES = ("to_contact", "contacted", "relayed", "partner", "co_creator", "declined")
TIERS = ("nano", "micro", "mid", "macro", "mega")
SORTS = (
    "composite",
    "relevance",
    "reach",
    "resonance",
    "authenticity",
    "activity",
    "followers",
    "name",
)
COMPONENTS = ("reach", "resonance", "relevance", "authenticity", "activity")


def _staff(viewer: Any) -> None:
    if viewer.user.role == "client_viewer":
        raise Forbidden("The relay directory is for agency staff.")


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "q": q.get("q", "")[:200],
        "topic": [t for t in q.getlist("topic") if t][:10],
        "network": [n for n in q.getlist("network") if n in NETWORKS],
        "tier": [t for t in q.getlist("tier") if t in TIERS],
        "language": [lang for lang in q.getlist("language") if lang][:5],
        "region": [r for r in q.getlist("region") if r][:5],
        "status": [s for s in q.getlist("status") if s in STATUSES],
        "min_composite": q.get("min_composite") or None,
        "max_composite": q.get("max_composite") or None,
        "min_relevance": q.get("min_relevance") or None,
        "min_authenticity": q.get("min_authenticity") or None,
        "sort": q.get("sort") if q.get("sort") in SORTS else "composite",
        "order": "asc" if q.get("order") == "asc" else "desc",
        "shortlisted": q.get("shortlisted") == "1",
        "cursor": q.get("cursor") or None,
    }


@router.get("/c/{slug}/benchmark/relays", response_class=HTMLResponse)
async def directory(
    request: Request, viewer: ViewerDep, client: ClientDep, benchmark: BenchmarkClientDep
) -> Response:
    _staff(viewer)
    f = _filters(request)
    params = {k: v for k, v in f.items() if v not in (None, "", [], False)}
    params["client_id"] = client.id
    params["limit"] = 50
    p = await panel("benchmark", benchmark.relays(viewer.token(), params))
    return render(
        request,
        "benchmark/relays.html",
        {
            "relays": p,
            "f": f,
            "base": base(client),
            "networks": NETWORKS,
            "statuses": STATUSES,
            "tiers": TIERS,
            "sorts": SORTS,
        },
        block="results",
    )


@router.post("/c/{slug}/benchmark/relays", response_class=HTMLResponse)
async def create_relay(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    name: Annotated[str, Form(max_length=200)],
    accounts: Annotated[str, Form(max_length=5000)] = "",
    topics: Annotated[str, Form(max_length=2000)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
    region: Annotated[str, Form(max_length=120)] = "",
    bio: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    from services.web.routers.benchmark import parse_accounts

    _staff(viewer)
    parsed, bad = parse_accounts(accounts)
    if bad:
        raise_msg = request.state.t(
            "Not understood: {lines}. Write one account per line as network: handle.",
            lines=", ".join(bad),
        )
        return _message(request, raise_msg, 422)
    try:
        relay = await benchmark.create_relay(
            viewer.token(),
            {
                "name": name,
                "accounts": parsed,
                "topics": [x for x in topics.split(",") if x.strip()],
                "language": language.strip().lower() or None,
                "region": region.strip() or None,
                "bio": bio.strip() or None,
            },
        )
    except BackendRejected as exc:
        return _message(request, str(exc), exc.status or 422)
    return hx_redirect(f"{base(client)}/relays/{relay['id']}", request)


def _message(request: Request, message: str, status: int) -> Response:
    return render(
        request, "errors/error.html", {"status": status, "message": message}, status_code=status
    )


@router.get("/c/{slug}/benchmark/relays/{relay_id}", response_class=HTMLResponse)
async def profile(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    relay_id: int,
) -> Response:
    _staff(viewer)
    p = await panel("benchmark", benchmark.relay(viewer.token(), relay_id, client.id))
    if p.status == 404:
        raise NotFound(f"No relay {relay_id}")
    return render(
        request,
        "benchmark/relay.html",
        {"relay": p, "base": base(client), "statuses": STATUSES, "components": COMPONENTS},
        block="content",
    )


@router.post("/c/{slug}/benchmark/relays/{relay_id}/status", response_class=HTMLResponse)
async def set_status(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    relay_id: int,
    status: Annotated[str, Form(max_length=20)],
) -> Response:
    _staff(viewer)
    try:
        await benchmark.update_relay(viewer.token(), relay_id, {"status": status})
    except BackendNotFound as exc:
        raise NotFound(f"No relay {relay_id}") from exc
    except BackendRejected as exc:
        return _message(request, str(exc), exc.status or 422)
    return hx_redirect(f"{base(client)}/relays/{relay_id}", request)


@router.post("/c/{slug}/benchmark/relays/{relay_id}/shortlist", response_class=HTMLResponse)
async def toggle_shortlist(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    relay_id: int,
    action: Annotated[str, Form(pattern="^(add|remove)$")] = "add",
) -> Response:
    """Add to (or remove from) the client's shortlist; HTMX swaps the button."""
    _staff(viewer)
    token = viewer.token()
    try:
        if action == "add":
            await benchmark.shortlist_add(token, client.id or 0, relay_id)
        else:
            await benchmark.shortlist_remove(token, client.id or 0, relay_id)
    except BackendNotFound as exc:
        raise NotFound(f"No relay {relay_id}") from exc
    if request.headers.get("hx-request") == "true":
        return render(
            request,
            "benchmark/_shortlist_button.html",
            {"rid": relay_id, "on": action == "add", "base": base(client)},
        )
    return hx_redirect(request.headers.get("referer") or f"{base(client)}/shortlist", request)


@router.get("/c/{slug}/benchmark/shortlist", response_class=HTMLResponse)
async def shortlist(
    request: Request, viewer: ViewerDep, client: ClientDep, benchmark: BenchmarkClientDep
) -> Response:
    token = viewer.token()
    loaded = await panels(
        {
            "benchmark:shortlist": benchmark.shortlist(token, client.id or 0),
            "benchmark:co": benchmark.co_creators(token, client.id or 0),
        }
    )
    return render(
        request,
        "benchmark/shortlist.html",
        {
            "shortlist": loaded["benchmark:shortlist"],
            "co": loaded["benchmark:co"],
            "base": base(client),
        },
        block="content",
    )


@router.get("/c/{slug}/benchmark/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    job: str | None = None,
    message: str | None = None,
) -> Response:
    _staff(viewer)
    token = viewer.token()
    calls: dict[str, Any] = {
        "benchmark:themes": benchmark.themes(token, client.id or 0),
        "benchmark:settings": benchmark.scoring_settings(token),
        "benchmark:duplicates": benchmark.duplicates(token),
    }
    if job:
        calls["benchmark:job"] = benchmark.job(token, job)
    loaded = await panels(calls)
    return render(
        request,
        "benchmark/settings.html",
        {
            "themes": loaded["benchmark:themes"],
            "settings": loaded["benchmark:settings"],
            "duplicates": loaded["benchmark:duplicates"],
            "job": loaded.get("benchmark:job"),
            "message": message,
            "base": base(client),
            "components": COMPONENTS,
        },
        block="content",
    )


@router.post("/c/{slug}/benchmark/settings/themes", response_class=HTMLResponse)
async def save_themes(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    keywords: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    _staff(viewer)
    words = [k.strip() for line in keywords.splitlines() for k in line.split(",") if k.strip()]
    await benchmark.put_themes(viewer.token(), client.id or 0, words)
    return hx_redirect(f"{base(client)}/settings", request)


@router.post("/c/{slug}/benchmark/settings/weights", response_class=HTMLResponse)
async def save_weights(
    request: Request, viewer: ViewerDep, client: ClientDep, benchmark: BenchmarkClientDep
) -> Response:
    _staff(viewer)
    form = await request.form()
    weights: dict[str, float] = {}
    for c in COMPONENTS:
        raw = str(form.get(f"w_{c}", "0") or "0").replace(",", ".")
        try:
            weights[c] = float(raw)
        except ValueError:
            return _message(request, f"{c}: {raw!r} is not a number.", 422)
    body: dict[str, Any] = {"weights": weights}
    scheme = str(form.get("tier_scheme") or "")
    if scheme:
        body["tier_scheme"] = scheme
    try:
        out = await benchmark.put_scoring_settings(viewer.token(), body, client.id or 0)
    except BackendRejected as exc:
        return _message(request, str(exc), exc.status or 422)
    return hx_redirect(f"{base(client)}/settings?job={out['job']['job_id']}", request)


@router.post("/c/{slug}/benchmark/settings/rescore", response_class=HTMLResponse)
async def rescore(
    request: Request, viewer: ViewerDep, client: ClientDep, benchmark: BenchmarkClientDep
) -> Response:
    _staff(viewer)
    accepted = await benchmark.rescore(viewer.token(), client.id or 0)
    return hx_redirect(f"{base(client)}/settings?job={accepted.job_id}", request)


@router.post("/c/{slug}/benchmark/settings/duplicates", response_class=HTMLResponse)
async def resolve_duplicate(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    a: Annotated[int, Form()],
    b: Annotated[int, Form()],
    action: Annotated[str, Form(pattern="^(merge|dismiss)$")],
) -> Response:
    _staff(viewer)
    if action == "merge":
        await benchmark.merge(viewer.token(), a, b)
    else:
        await benchmark.dismiss(viewer.token(), a, b)
    return hx_redirect(f"{base(client)}/settings", request)


@router.post("/c/{slug}/benchmark/settings/import", response_class=HTMLResponse)
async def import_relays(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    benchmark: BenchmarkClientDep,
    file: Annotated[UploadFile, File()],
    on_duplicate: Annotated[str, Form(pattern="^(refuse|merge|create)$")] = "refuse",
    dry_run: Annotated[str, Form()] = "",
) -> Response:
    _staff(viewer)
    data = await file.read(5 * 1024 * 1024 + 1)
    try:
        summary = await benchmark.import_relays(
            viewer.token(),
            file.filename or "relays.csv",
            data,
            {"on_duplicate": on_duplicate, "dry_run": bool(dry_run)},
        )
    except BackendRejected as exc:
        summary = {"refused": str(exc), "duplicates": exc.problem.get("duplicates", [])}
    return render(
        request,
        "benchmark/_import_result.html",
        {"summary": summary, "base": base(client)},
    )


@router.get("/c/{slug}/benchmark/relays.csv")
async def export_relays(
    request: Request, viewer: ViewerDep, client: ClientDep, benchmark: BenchmarkClientDep
) -> Response:
    _staff(viewer)
    params: dict[str, Any] = {}
    if request.query_params.get("shortlisted") == "1":
        params = {"client_id": client.id, "shortlisted": True}
    body = await benchmark.export_relays(viewer.token(), params)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="relays-{client.slug}.csv"'},
    )
