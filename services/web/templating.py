"""Rendering pages and fragments, and the HTMX response helpers.

A page template has named blocks; an HTMX request gets only the block it asks for. The
decision looks at ``HX-Request`` *and* not ``HX-History-Restore-Request`` (a history
restore needs the whole page), and every response says ``Vary: HX-Request`` so caches
keep the two apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from services.web.i18n import LOCALE_NAMES, Translator
from services.web.nav import STEPS

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# Autoescape everything, whatever the file extension: every user-provided string
# (post texts, names, notes) is rendered inert.
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates ship with the code: no stat() of every template on every render.
    auto_reload=False,
)
templates = Jinja2Blocks(env=_env)
templates.env.globals["nav_steps"] = STEPS


def is_fragment_request(request: Request) -> bool:
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = base_context(request)
    ctx.update(context or {})
    kwargs: dict[str, Any] = {}
    if block and is_fragment_request(request):
        kwargs["block_name"] = block
    resp = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers, **kwargs
    )
    resp.headers["Vary"] = "HX-Request"
    assert isinstance(resp, HTMLResponse)
    return resp


def base_context(request: Request) -> dict[str, Any]:
    state = request.state
    t: Translator = getattr(state, "t", None) or Translator("fr_CA")
    return {
        "request": request,
        "path": request.url.path,
        "_": t,
        "t": t,
        "locale": t.locale,
        "locale_names": LOCALE_NAMES,
        "user": getattr(state, "user", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "clients": getattr(state, "clients", []),
        "client": getattr(state, "client", None),
    }


def hx_redirect(url: str, request: Request | None = None) -> Response:
    """Redirect that works for both plain and HTMX requests."""
    if request is not None and request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return Response(status_code=303, headers={"Location": url})


def hx_trigger(response: Response, events: dict[str, Any]) -> Response:
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def toast(message: str, level: str = "info") -> str:
    """An out-of-band toast fragment to append to an HTMX response."""
    from markupsafe import escape

    return (
        f'<div id="toasts" hx-swap-oob="beforeend"><p class="toast toast-{escape(level)}" '
        f'role="status">{escape(message)}</p></div>'
    )
