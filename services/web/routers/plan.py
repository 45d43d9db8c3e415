"""Steps 3 and 4 in the browser: the guided plan builder, version comparison, the
calendar, the plan-versus-actual dashboard and the exports.

Every builder form saves at once (the planner stores the draft item by item) and answers
with the step's fragment; suggestions are accepted with one click.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web.dependencies import ClientDep, PlannerClientDep, ViewerDep
from services.web.panels import panel
from services.web.routers.plan_forms import body_for, style_body
from services.web.templating import hx_redirect, render
from shared.errors import DomainError, Invalid, NotFound
from shared.http import BackendNotFound, BackendRejected, BackendUnavailable
from shared.schemas.ingest import SOCIAL_NETWORKS, WEB_ANALYTICS
from shared.schemas.planner import AGE_BANDS, ObjectiveKind, PlanVersionPublic

router = APIRouter(include_in_schema=False)

STEPS = ("audiences", "objectives", "editorial", "roles", "phases", "review")
STEP_LABELS = ("Audiences", "Objectives", "Editorial line", "Roles", "Phases", "Review")
KPIS = (
    "followers",
    "follower_growth_pct",
    "engagement_rate_by_follower",
    "engagement_rate_by_reach",
    "posts_per_week",
    "reach",
    "impressions",
    "views",
    "engagements",
    "shares",
    "link_clicks",
    "video_views",
    "social_sessions",
    "sessions",
    "conversions",
)
COLLECTIONS = ("audiences", "objectives", "pillars", "animators", "spaces", "cocreators", "phases")


def _base(client: Any) -> str:
    return f"/c/{client.slug}/plan"


async def _version_or_404(planner: Any, token: str, vid: int, client: Any) -> PlanVersionPublic:
    try:
        v: PlanVersionPublic = await planner.version(token, vid)
    except BackendNotFound as exc:
        raise NotFound(f"No plan version {vid}") from exc
    if v.client_id != client.id:
        raise NotFound(f"No plan version {vid}")
    return v


@router.get("/c/{slug}/plan", response_class=HTMLResponse)
async def plan_index(
    request: Request, viewer: ViewerDep, client: ClientDep, planner: PlannerClientDep
) -> Response:
    p = await panel("planner", planner.plans(viewer.token(), client.id or 0))
    today = dt.date.today()
    return render(
        request,
        "plan/index.html",
        {
            "plans": p,
            "form_error": None,
            "defaults": {
                "start": today.replace(day=1),
                "end": today.replace(day=1).replace(year=today.year + 1) - dt.timedelta(days=1),
            },
        },
        block="content",
    )


@router.post("/c/{slug}/plan", response_class=HTMLResponse)
async def plan_create(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    name: Annotated[str, Form(max_length=200)],
    period_start: Annotated[str, Form(max_length=10)],
    period_end: Annotated[str, Form(max_length=10)],
) -> Response:
    try:
        plan = await planner.create_plan(
            viewer.token(),
            {
                "client_id": client.id,
                "name": name,
                "period_start": period_start,
                "period_end": period_end,
            },
        )
    except BackendRejected as exc:
        p = await panel("planner", planner.plans(viewer.token(), client.id or 0))
        return render(
            request,
            "plan/index.html",
            {
                "plans": p,
                "form_error": str(exc),
                "defaults": {"start": period_start, "end": period_end},
            },
            status_code=exc.status or 422,
            block="content",
        )
    return hx_redirect(f"{_base(client)}/v/{plan.versions[0].id}", request)


async def _builder(
    request: Request,
    viewer: Any,
    client: Any,
    planner: Any,
    v: PlanVersionPublic,
    step: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    block: str = "content",
) -> Response:
    token = viewer.token()
    sug = None
    if step in ("audiences", "objectives", "roles", "phases") and v.status == "draft":
        sug = await panel("planner", planner.suggestions(token, v.id))
    plan = await panel("planner", planner.plan(token, v.plan_id))
    return render(
        request,
        "plan/builder.html",
        {
            "v": v,
            "doc": v.document,
            "plan": plan.data,
            "step": step,
            "builder_steps": list(zip(STEPS, STEP_LABELS, strict=True)),
            "suggestions": sug,
            "error": error,
            "editable": v.status == "draft" and viewer.user.role != "client_viewer",
            "age_bands": AGE_BANDS,
            "kinds": [k.value for k in ObjectiveKind],
            "kpis": KPIS,
            "networks": [n.value for n in SOCIAL_NETWORKS],
            "web_networks": [n.value for n in WEB_ANALYTICS],
            "base": _base(client),
        },
        status_code=status_code,
        block=block,
    )


@router.get("/c/{slug}/plan/v/{vid}", response_class=HTMLResponse)
async def builder(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    step: str = "audiences",
) -> Response:
    if step not in STEPS:
        step = "audiences"
    v = await _version_or_404(planner, viewer.token(), vid, client)
    return await _builder(request, viewer, client, planner, v, step, block="step")


async def _edit(
    request: Request,
    viewer: Any,
    client: Any,
    planner: Any,
    vid: int,
    step: str,
    method: str,
    path: str,
    body: Any = None,
) -> Response:
    token = viewer.token()
    try:
        v = await planner.version_call(token, method, vid, path, body)
    except BackendRejected as exc:
        v = await _version_or_404(planner, token, vid, client)
        return await _builder(
            request, viewer, client, planner, v, step, error=str(exc), status_code=200, block="step"
        )
    except BackendNotFound as exc:
        raise NotFound(str(exc)) from exc
    return await _builder(request, viewer, client, planner, v, step, block="step")


@router.post("/c/{slug}/plan/v/{vid}/items/{collection}", response_class=HTMLResponse)
async def add_item(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    collection: str,
) -> Response:
    if collection not in COLLECTIONS:
        raise NotFound(f"No {collection}")
    form = await request.form()
    step = str(form.get("step") or "audiences")
    await _version_or_404(planner, viewer.token(), vid, client)
    try:
        body = body_for(collection, form)
    except Invalid as exc:
        v = await _version_or_404(planner, viewer.token(), vid, client)
        return await _builder(
            request, viewer, client, planner, v, step, error=exc.detail, block="step"
        )
    return await _edit(request, viewer, client, planner, vid, step, "POST", f"/{collection}", body)


@router.post(
    "/c/{slug}/plan/v/{vid}/items/{collection}/{item_id}/delete", response_class=HTMLResponse
)
async def delete_item(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    collection: str,
    item_id: str,
    step: Annotated[str, Form(max_length=20)] = "audiences",
) -> Response:
    if collection not in COLLECTIONS:
        raise NotFound(f"No {collection}")
    await _version_or_404(planner, viewer.token(), vid, client)
    return await _edit(
        request, viewer, client, planner, vid, step, "DELETE", f"/{collection}/{item_id}"
    )


@router.post("/c/{slug}/plan/v/{vid}/style", response_class=HTMLResponse)
async def save_style(
    request: Request, viewer: ViewerDep, client: ClientDep, planner: PlannerClientDep, vid: int
) -> Response:
    form = await request.form()
    await _version_or_404(planner, viewer.token(), vid, client)
    return await _edit(
        request, viewer, client, planner, vid, "editorial", "PUT", "/style", style_body(form)
    )


@router.post("/c/{slug}/plan/v/{vid}/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    baseline_window_days: Annotated[int, Form(ge=7, le=730)],
) -> Response:
    await _version_or_404(planner, viewer.token(), vid, client)
    return await _edit(
        request,
        viewer,
        client,
        planner,
        vid,
        "objectives",
        "PATCH",
        "/settings",
        {"baseline_window_days": baseline_window_days},
    )


@router.post("/c/{slug}/plan/v/{vid}/accept", response_class=HTMLResponse)
async def accept(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    kind: Annotated[str, Form(max_length=20)],
    step: Annotated[str, Form(max_length=20)] = "objectives",
    item_id: Annotated[str, Form(max_length=40)] = "",
    value: Annotated[str, Form(max_length=40)] = "",
    relay_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    await _version_or_404(planner, viewer.token(), vid, client)
    body: dict[str, Any] = {"kind": kind, "item_id": item_id or None}
    if value.strip():
        try:
            body["value"] = float(value.replace(",", ".").replace(" ", ""))
        except ValueError:
            body["value"] = value  # the planner explains what is wrong
    if relay_id.strip().isdigit():
        body["relay_id"] = int(relay_id)
    return await _edit(request, viewer, client, planner, vid, step, "POST", "/accept", body)


@router.get("/c/{slug}/plan/{plan_id}/compare", response_class=HTMLResponse)
async def compare(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    plan_id: int,
    a: int = 1,
    b: int = 2,
) -> Response:
    token = viewer.token()
    plan = await panel("planner", planner.plan(token, plan_id))
    if plan.status == 404 or (plan.data is not None and plan.data.client_id != client.id):
        raise NotFound(f"No plan {plan_id}")
    cmp = await panel("planner", planner.compare(token, plan_id, a, b))
    return render(
        request, "plan/compare.html", {"plan": plan, "cmp": cmp, "a": a, "b": b}, block="content"
    )


# ------------------------------------------------------------------------ step 4


async def _current_version(planner: Any, token: str, client: Any) -> PlanVersionPublic | None:
    plans = await planner.plans(token, client.id or 0)
    for wanted in ("active", "approved", "draft"):
        for p in plans:
            for vs in sorted(p.versions, key=lambda x: -x.number):
                if vs.status == wanted:
                    return await planner.version(token, vs.id)
    return None


@router.get("/c/{slug}/implementation", response_class=HTMLResponse)
async def implementation(
    request: Request, viewer: ViewerDep, client: ClientDep, planner: PlannerClientDep
) -> Response:
    try:
        v = await _current_version(planner, viewer.token(), client)
    except BackendUnavailable:
        # Which version is current is the planner's to say: its plans panel, degraded.
        return await plan_index(request, viewer, client, planner)
    except DomainError:
        raise
    if v is None:
        return hx_redirect(_base(client), request)
    return hx_redirect(f"{_base(client)}/v/{v.id}/dashboard", request)


def _week_days(start: dt.date) -> list[dt.date]:
    monday = start - dt.timedelta(days=start.weekday())
    return [monday + dt.timedelta(days=i) for i in range(7)]


@router.get("/c/{slug}/plan/v/{vid}/calendar", response_class=HTMLResponse)
async def calendar(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    week: dt.date | None = None,
    error: str | None = None,
) -> Response:
    token = viewer.token()
    v = await _version_or_404(planner, token, vid, client)
    start = week or max(v.period_start, min(dt.date.today(), v.period_end))
    days = _week_days(start)
    items = await panel("planner", planner.calendar(token, vid, days[0], days[-1]))
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(v.document.timezone)
    by_day: dict[dt.date, list[Any]] = {d: [] for d in days}
    for it in items.data or []:
        local = it.scheduled_at.astimezone(tz)
        by_day.setdefault(local.date(), []).append((local, it))
    return render(
        request,
        "plan/calendar.html",
        {
            "v": v,
            "doc": v.document,
            "days": days,
            "by_day": by_day,
            "items": items,
            "prev_week": days[0] - dt.timedelta(days=7),
            "next_week": days[0] + dt.timedelta(days=7),
            "animators": {a.id: a.name for a in v.document.animators},
            "pillars": {p.id: p.name for p in v.document.pillars},
            "base": _base(client),
            "error": error,
            "can_edit": viewer.user.role != "client_viewer",
        },
        block="content",
    )


@router.post("/c/{slug}/plan/v/{vid}/calendar/generate", response_class=HTMLResponse)
async def calendar_generate(
    request: Request, viewer: ViewerDep, client: ClientDep, planner: PlannerClientDep, vid: int
) -> Response:
    await _version_or_404(planner, viewer.token(), vid, client)
    try:
        await planner.generate_calendar(viewer.token(), vid, {})
    except BackendRejected as exc:
        from urllib.parse import quote

        return hx_redirect(f"{_base(client)}/v/{vid}/calendar?error={quote(str(exc))}", request)
    return hx_redirect(f"{_base(client)}/v/{vid}/calendar", request)


@router.post("/c/{slug}/plan/v/{vid}/calendar/{item_id}/move", response_class=HTMLResponse)
async def calendar_move(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    item_id: int,
    day: Annotated[str, Form(max_length=10)],
    time: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Move an item (the form, or a drag onto another day that keeps its time)."""
    token = viewer.token()
    v = await _version_or_404(planner, token, vid, client)
    items = await planner.calendar(token, vid)
    it = next((i for i in items if i.id == item_id), None)
    if it is None:
        raise NotFound(f"No calendar item {item_id}")
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(v.document.timezone)
    local = it.scheduled_at.astimezone(tz)
    try:
        d = dt.date.fromisoformat(day)
        t = dt.time.fromisoformat(time) if time else local.time()
    except ValueError as exc:
        raise Invalid(f"Not a date or time: {day} {time}") from exc
    when = dt.datetime.combine(d, t, tzinfo=tz)
    try:
        await planner.move_item(token, vid, item_id, {"scheduled_at": when.isoformat()})
    except BackendRejected as exc:
        raise Invalid(str(exc)) from exc
    return hx_redirect(f"{_base(client)}/v/{vid}/calendar?week={d.isoformat()}", request)


@router.get("/c/{slug}/plan/v/{vid}/calendar.csv")
async def calendar_csv(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    tool: str = "generic",
    network: str | None = None,
) -> Response:
    await _version_or_404(planner, viewer.token(), vid, client)
    data, ctype, disp = await planner.calendar_file(
        viewer.token(), vid, {"tool": tool, "network": network or None}
    )
    return Response(data, media_type=ctype, headers={"Content-Disposition": disp})


@router.post("/c/{slug}/plan/v/{vid}/feeds/{animator_id}", response_class=HTMLResponse)
async def feed_create(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    animator_id: str,
) -> Response:
    v = await _version_or_404(planner, viewer.token(), vid, client)
    feed = await planner.create_feed(viewer.token(), v.plan_id, animator_id)
    url = str(request.base_url).rstrip("/") + f"/feeds/{feed['token']}.ics"
    revoke = f"{_base(client)}/v/{vid}/feeds/{animator_id}/revoke"
    return render(
        request,
        "plan/_feed.html",
        {"url": url, "animator_id": animator_id, "revoke_url": revoke},
    )


@router.post("/c/{slug}/plan/v/{vid}/feeds/{animator_id}/revoke", response_class=HTMLResponse)
async def feed_revoke(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    animator_id: str,
) -> Response:
    v = await _version_or_404(planner, viewer.token(), vid, client)
    await planner.revoke_feed(viewer.token(), v.plan_id, animator_id)
    return render(
        request, "plan/_feed.html", {"url": None, "animator_id": animator_id, "revoke_url": ""}
    )


@router.get("/feeds/{token}.ics")
async def feed(request: Request, token: str) -> Response:
    """An animator's calendar feed for calendar apps: the token is the credential."""
    planner = request.app.state.planner
    try:
        data, ctype = await planner.feed(token)
    except BackendNotFound as exc:
        raise NotFound("No such calendar feed.") from exc
    return Response(data, media_type=ctype)


@router.get("/c/{slug}/plan/v/{vid}/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request, viewer: ViewerDep, client: ClientDep, planner: PlannerClientDep, vid: int
) -> Response:
    token = viewer.token()
    v = await _version_or_404(planner, token, vid, client)
    prog = await panel("planner", planner.progress(token, vid))
    objectives = {o.id: o for o in v.document.objectives}
    return render(
        request,
        "plan/dashboard.html",
        {"v": v, "progress": prog, "objectives": objectives, "base": _base(client)},
        block="content",
    )


@router.post("/c/{slug}/plan/v/{vid}/export", response_class=HTMLResponse)
async def export(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    format: Annotated[str, Form(pattern="^(pdf|md|docx)$")] = "pdf",
    locale: Annotated[str, Form(pattern="^(fr_CA|en)$")] = "fr_CA",
) -> Response:
    await _version_or_404(planner, viewer.token(), vid, client)
    accepted = await planner.export(viewer.token(), vid, format, locale)
    job = await panel("planner", planner.job(viewer.token(), accepted.job_id))
    return render(
        request,
        "plan/_export.html",
        {"job": job.data, "panel": job, "service": "planner", "base": _base(client)},
    )


@router.get("/c/{slug}/plan/export-jobs/{job_id}", response_class=HTMLResponse)
async def export_job(
    request: Request, viewer: ViewerDep, client: ClientDep, planner: PlannerClientDep, job_id: str
) -> Response:
    job = await panel("planner", planner.job(viewer.token(), job_id))
    if job.status == 404 or (job.data is not None and job.data.client_id != client.id):
        raise NotFound(f"No job {job_id}")
    return render(
        request,
        "plan/_export.html",
        {"job": job.data, "panel": job, "service": "planner", "base": _base(client)},
    )


@router.get("/c/{slug}/plan/exports/{export_id}")
async def download(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    export_id: int,
) -> Response:
    try:
        data, ctype, disp = await planner.download(viewer.token(), export_id)
    except BackendNotFound as exc:
        raise NotFound(f"No export {export_id}") from exc
    return Response(data, media_type=ctype, headers={"Content-Disposition": disp})


# Registered last: its ``{action}`` segment would otherwise catch the fixed POST routes
# declared after it (``/export`` answered 404 "No action export").
@router.post("/c/{slug}/plan/v/{vid}/{action}", response_class=HTMLResponse)
async def lifecycle(
    request: Request,
    viewer: ViewerDep,
    client: ClientDep,
    planner: PlannerClientDep,
    vid: int,
    action: str,
) -> Response:
    if action not in ("approve", "activate", "close", "new-version"):
        raise NotFound(f"No action {action}")
    token = viewer.token()
    v = await _version_or_404(planner, token, vid, client)
    try:
        if action == "new-version":
            v = await planner.new_version(token, v.plan_id)
        else:
            v = await planner.version_call(token, "POST", vid, f"/{action}")
    except BackendRejected as exc:
        return await _builder(request, viewer, client, planner, v, "review", error=str(exc))
    return hx_redirect(f"{_base(client)}/v/{v.id}?step=review", request)
