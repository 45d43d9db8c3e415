"""Domain errors and their rendering as RFC 9457 ``application/problem+json``.

Services raise :class:`DomainError` subclasses (each with a stable ``code`` and an HTTP
status); one set of handlers, installed by :func:`install_problem_handlers`, renders every
error the same way. Unexpected exceptions are logged with their traceback and answered
with a bare 500 problem that reveals nothing of the code.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.logging import request_id_var

log = logging.getLogger("balise.errors")

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://balise.dev/problems/"


class DomainError(Exception):
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self, detail: str | None = None, *, extra: dict[str, Any] | None = None, **kw: Any
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = {**(extra or {}), **kw}


class NotFound(DomainError):
    status, code, title = 404, "not-found", "Not found"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class Invalid(DomainError):
    status, code, title = 422, "invalid", "Invalid input"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload-too-large", "Request body too large"


class TooManyRequests(DomainError):
    status, code, title = 429, "too-many-requests", "Too many requests"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "unavailable", "Service unavailable"


_STATUS_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid", "Invalid input"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
    **extra: Any,
) -> JSONResponse:
    dcode, dtitle = _STATUS_TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (code or dcode),
        "title": title or dtitle,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    rid = request_id or request_id_var.get()
    if rid:
        body["request_id"] = rid
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        out.append(
            {
                "field": _loc(err.get("loc", ())),
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
        )
    return out


_OUT_OF_RANGE = ("out of int64 range", "out of int32 range", "out of int16 range")
_UNSTORABLE_TEXT = ('for encoding "UTF8": 0x00', "surrogates not allowed")


def unstorable_value(exc: BaseException) -> str | None:
    """Why the database driver refused a value from the request, or None when the error is
    something else: an integer no column can hold (SQLite: ``OverflowError``; asyncpg:
    "value out of int64 range"), or text PostgreSQL cannot store (a NUL character, an
    unpaired surrogate)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if isinstance(current, OverflowError) and "too large to convert" in text:
            return "A number in the request is out of range (ids and counts are 64-bit integers)."
        if any(marker in text for marker in _OUT_OF_RANGE):
            return "A number in the request is out of range (ids and counts are 64-bit integers)."
        if any(marker in text for marker in _UNSTORABLE_TEXT):
            return (
                "Text in the request holds a NUL character or an unpaired surrogate, "
                "which cannot be stored."
            )
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = exc.extra.pop("headers", None)
        return problem(
            exc.status,
            exc.detail,
            code=exc.code,
            title=exc.title,
            instance=request.url.path,
            headers=headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid"
        return problem(422, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = (
            exc.detail
            if isinstance(exc.detail, str)
            else _STATUS_TITLES.get(exc.status_code, ("", "Error"))[1]
        )
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route or resource at {request.url.path}"
        return problem(
            exc.status_code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DBAPIError)
    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # A value from the request that the database cannot hold (an id of 2**70, a NUL
        # in a text): the caller's mistake, found by the driver, and the request's
        # transaction is already rolled back. Anything else goes on to the last resort.
        reason = unstorable_value(exc)
        if reason is None:
            raise exc
        return problem(422, reason, instance=request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Last resort: the traceback goes to the log (with the request id), never to
        # the caller.
        # This handler runs outside the request-id middleware: read the id it left behind.
        rid = request.scope.get("state", {}).get("request_id")
        token = request_id_var.set(rid)
        try:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
        finally:
            request_id_var.reset(token)
        return problem(
            500,
            "An unexpected error occurred; it has been logged.",
            request_id=rid,
            headers={"X-Request-ID": rid} if rid else None,
        )
