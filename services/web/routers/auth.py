"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from services.web import security
from services.web import service as web_service
from services.web.dependencies import OptionalViewerDep, SettingsDep, check_csrf
from services.web.i18n import LOCALES
from services.web.models import User
from services.web.templating import hx_redirect, render
from shared.db import SessionDep

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would make the login page a phishing aid."""
    if not target:
        return "/"
    # Browsers read a backslash as a slash and drop tabs and newlines, so "/\\evil.example"
    # or "/<tab>/evil.example" would leave the site: no such character is accepted.
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


PRE_CSRF_COOKIE = "balise_precsrf"


def _pre_csrf(request: Request) -> str:
    """The double-submit token of anonymous forms (login, language): stops login CSRF."""
    import secrets

    value = request.cookies.get(PRE_CSRF_COOKIE)
    return value if value and len(value) >= 32 else secrets.token_urlsafe(32)


def _set_pre_csrf(response: Response, value: str, settings: SettingsDep) -> None:
    response.set_cookie(
        PRE_CSRF_COOKIE,
        value,
        max_age=3600 * 12,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/",
    )


def _pre_csrf_ok(request: Request, given: str | None) -> bool:
    expected = request.cookies.get(PRE_CSRF_COOKIE)
    return bool(expected) and security.csrf_ok(expected or "", given)


def _remote(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request,
    settings: SettingsDep,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **ctx: object,
) -> Response:
    token = _pre_csrf(request)
    request.state.csrf_token = token
    resp = render(
        request, "auth/login.html", {"error": None, **ctx}, status_code=status_code, headers=headers
    )
    _set_pre_csrf(resp, token, settings)
    return resp


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, viewer: OptionalViewerDep, settings: SettingsDep, next: str = "/"
) -> Response:
    if viewer is not None:
        return hx_redirect(_safe_next(next), request)
    return _login_page(request, settings, next=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    viewer: OptionalViewerDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    t = request.state.t
    if not _pre_csrf_ok(request, csrf_token):
        return _login_page(
            request,
            settings,
            status_code=403,
            next=_safe_next(next),
            email=email,
            error=t("Your session has expired or the form was stale; please try again."),
        )
    try:
        user = await web_service.authenticate(
            db,
            email,
            password,
            remote=_remote(request),
            max_failures=settings.login_max_failures,
            lock_seconds=settings.login_lock_seconds,
        )
    except web_service.TooManyLogins as exc:
        return _login_page(
            request,
            settings,
            status_code=429,
            headers={"Retry-After": str(exc.wait)},
            next=_safe_next(next),
            email=email,
            error=t("Too many failed attempts. Try again in {seconds} seconds.", seconds=exc.wait),
        )
    except web_service.BadLogin:
        return _login_page(
            request,
            settings,
            status_code=401,
            next=_safe_next(next),
            email=email,
            error=t("Wrong e-mail or password."),
        )
    # A signed-in visitor logging in again gets a new session: the old id dies here,
    # so a planted cookie can never be promoted (no fixation).
    if viewer is not None:
        await security.close_session(db, viewer.session_id)
    sid, _row = await security.open_session(
        db,
        user,
        hours=settings.session_hours,
        user_agent=request.headers.get("user-agent", ""),
    )
    response = hx_redirect(_safe_next(next), request)
    set_session_cookie(request, response, sid, settings)
    return response


def set_session_cookie(
    request: Request, response: Response, sid: str, settings: SettingsDep
) -> None:
    response.set_cookie(
        security.SESSION_COOKIE,
        request.app.state.signer.dumps(sid),
        max_age=settings.session_hours * 3600,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


@router.post("/logout")
async def logout(
    request: Request, db: SessionDep, viewer: OptionalViewerDep, settings: SettingsDep
) -> Response:
    if viewer is not None:
        await check_csrf(request, viewer)
        await security.close_session(db, viewer.session_id)
    response = hx_redirect("/login", request)
    response.delete_cookie(
        security.SESSION_COOKIE,
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/lang")
async def switch_language(
    request: Request,
    db: SessionDep,
    viewer: OptionalViewerDep,
    settings: SettingsDep,
    locale: Annotated[str, Form()] = "fr_CA",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if locale not in LOCALES:
        locale = settings.default_locale
    if viewer is not None:
        await check_csrf(request, viewer)
        row = await db.get(User, viewer.user.id)
        if row is not None:
            row.locale = locale
            db.add(row)
    elif not _pre_csrf_ok(request, csrf_token):
        return _login_page(request, settings, status_code=403, next=_safe_next(next))
    response = hx_redirect(_safe_next(next), request)
    response.set_cookie(
        security.LOCALE_COOKIE,
        locale,
        max_age=365 * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    return response
