"""Typed HTTP client base for calls between Balise services.

One client per backend, created in the caller's lifespan. Requests go out through one
pooled ``aiohttp.ClientSession`` and come back as :class:`httpx.Response` objects, so the
typed clients keep httpx's response API. Under the fan-out of a dashboard page httpx's
own pool is an order of magnitude slower on this hardware, and even httpx over aiohttp's
transport spends half of a small call building httpx's request and URL objects (see the
handbook's PERFORMANCE.md and ``bench/stack_load.py``). Multipart uploads, streams and
an explicit ``transport`` (tests mount the real apps in-process with
``httpx.ASGITransport``) go through :attr:`BackendClient.http`, an
:class:`httpx.AsyncClient`. Plain GETs (no body, a path and query that need no quoting:
the job lists every page asks for) skip aiohttp too: :mod:`shared.http_get` writes them
on pooled keep-alive connections and reads the answers with httptools, at a third of
aiohttp's CPU per call. Idempotent calls are retried with exponential backoff and
jitter; failures are mapped onto three exceptions that pages and jobs can act on.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
import httpx
from pydantic import BaseModel, TypeAdapter

from shared.http_get import KeepAliveGet, split_base
from shared.logging import request_id_var

log = logging.getLogger("balise.http")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


class BackendError(Exception):
    def __init__(self, service: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.service = service
        self.status = status


class BackendNotFound(BackendError):
    """The backend answered 404 for this resource."""


class BackendRejected(BackendError):
    """The backend refused the request (4xx); ``problem`` holds its problem+json body."""

    def __init__(
        self, service: str, message: str, status: int, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(service, message, status)
        self.problem = problem or {}


class BackendUnavailable(BackendError):
    """The backend could not be reached or failed (5xx, timeout) after the retries."""


def fast_transport(max_connections: int = 200) -> httpx.AsyncBaseTransport:
    """The aiohttp-backed transport; falls back to httpx's own when unavailable."""
    try:
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport(
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            trust_env=False,
        )
    except ImportError:  # pragma: no cover - the dependency is declared
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=max_connections), retries=0
        )


def _json_bytes(value: Any) -> bytes:
    """JSON as httpx encodes it (compact, UTF-8, no NaN)."""
    return jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _param(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query parameters as httpx sends them: lists repeat the key, booleans are lowercase."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            out.extend((key, _param(v)) for v in value)
        else:
            out.append((key, _param(value)))
    return out


class _Answer:
    """A backend's answer as read off the wire; the :class:`httpx.Response` that the
    typed clients' callers get is built only when asked for (the hot reads, a page's job
    lists, need only the status and the bytes)."""

    __slots__ = ("_full", "_raw_headers", "content", "status_code")

    def __init__(
        self,
        status_code: int,
        content: bytes,
        *,
        raw_headers: Any = (),
        full: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.content = content
        self._raw_headers = raw_headers
        self._full = full

    def response(self) -> httpx.Response:
        if self._full is None:
            self._full = httpx.Response(
                self.status_code,
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw_headers],
                content=self.content,
            )
        return self._full


class BackendClient:
    """Base for the typed clients (``services/web/clients/*``, backend-to-backend calls)."""

    service = "backend"

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.1,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        #: The direct aiohttp path serves every plain call unless a transport is given.
        self.direct = transport is None
        self._session: aiohttp.ClientSession | None = None
        #: plain GETs (the job lists of every page) go through :mod:`shared.http_get`
        self._get_target = split_base(self.base_url) if self.direct else None
        self._get_pool: tuple[asyncio.AbstractEventLoop, KeepAliveGet] | None = None
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport or fast_transport(),
            timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
        )

    async def aclose(self) -> None:
        if self._get_pool is not None:
            self._get_pool[1].close()
            self._get_pool = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.http.aclose()

    def _aiohttp(self) -> aiohttp.ClientSession:
        """The pooled session, made on first use (it must be made inside the event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=200, limit_per_host=200),
                timeout=aiohttp.ClientTimeout(total=self.timeout, connect=min(3.0, self.timeout)),
                trust_env=False,
                # httpx.Response decodes the body by its Content-Encoding itself.
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    def _keepalive(self) -> KeepAliveGet | None:
        """The plain-GET pool of this event loop (a client outlives a test's loop), or
        None when the base URL is not a plain ``http://host:port``."""
        if self._get_target is None:
            return None
        loop = asyncio.get_running_loop()
        if self._get_pool is None or self._get_pool[0] is not loop:
            self._get_pool = (loop, KeepAliveGet(*self._get_target))
        return self._get_pool[1]

    async def _send_direct(
        self,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        body: bytes | None,
        headers: dict[str, str],
        timeout: float | None,
    ) -> _Answer:
        if method == "GET" and body is None and path.startswith("/"):
            pool = self._keepalive()
            if pool is not None:
                target = path
                if params:  # added to a query the path may hold, as aiohttp does
                    sep = "&" if "?" in path else "?"
                    target = f"{path}{sep}{urlencode(params, quote_via=quote, safe='')}"
                request = pool.request_bytes(target, headers)
                if request is not None:
                    total = self.timeout if timeout is None else timeout
                    status, raw, content = await pool.send(request, total, min(3.0, total))
                    return _Answer(status, content, raw_headers=raw)
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        kw: dict[str, Any] = {}
        if timeout is not None:
            kw["timeout"] = aiohttp.ClientTimeout(total=timeout, connect=min(3.0, timeout))
        async with self._aiohttp().request(
            method,
            url,
            params=params or None,
            data=body,
            headers=headers,
            allow_redirects=False,
            **kw,
        ) as r:
            return _Answer(r.status, await r.read(), raw_headers=r.raw_headers)

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The backend's answer (a 2xx or 3xx; anything else raises :class:`BackendError`).

        Keywords: ``token``, ``params``, ``json``, ``content``, ``files``, ``data``,
        ``headers``, ``idempotency_key``, ``timeout``."""
        return (await self._exchange(method, path, **kw)).response()

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        files: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
    ) -> _Answer:
        method = method.upper()
        hdrs: dict[str, str] = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        rid = request_id_var.get()
        if rid:
            hdrs["X-Request-ID"] = rid
        if idempotency_key:
            hdrs["Idempotency-Key"] = idempotency_key
        retryable = method in IDEMPOTENT or bool(idempotency_key)
        attempts = 1 + (self.retries if retryable else 0)
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        last_exc: Exception | None = None
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        direct = self.direct and files is None and data is None
        body: bytes | None = content
        if direct and json is not None:
            body = _json_bytes(json)
            hdrs.setdefault("Content-Type", "application/json")
        query = _query(clean_params) if direct else []
        for attempt in range(attempts):
            try:
                if direct:
                    resp = await self._send_direct(method, path, query, body, hdrs, timeout)
                else:
                    full = await self.http.request(
                        method,
                        path,
                        params=clean_params,
                        json=json,
                        content=content,
                        files=files,
                        data=data,
                        headers=hdrs,
                        **extra,
                    )
                    resp = _Answer(full.status_code, full.content, full=full)
            except (httpx.TransportError, OSError, TimeoutError, aiohttp.ClientError) as exc:
                last_exc = exc
                if attempt + 1 < attempts:
                    await self._sleep(attempt)
                    continue
                raise BackendUnavailable(
                    self.service, f"{self.service} is unreachable: {type(exc).__name__}"
                ) from exc
            if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                await self._sleep(attempt)
                continue
            return self._check(resp)
        raise BackendUnavailable(self.service, f"{self.service} failed: {last_exc}")

    async def _sleep(self, attempt: int) -> None:
        delay = self.backoff * (2**attempt)
        await asyncio.sleep(delay + random.uniform(0, delay))

    def _check(self, answer: _Answer) -> _Answer:
        if answer.status_code >= 400:
            self._check_response(answer.response())
        return answer

    def _check_response(self, resp: httpx.Response) -> None:
        """Raise the :class:`BackendError` an error answer (4xx, 5xx) means."""
        if resp.status_code < 400:
            return
        problem: dict[str, Any] = {}
        try:
            body = resp.json()
            if isinstance(body, dict):
                problem = body
        except ValueError:
            pass
        detail = str(problem.get("detail") or resp.reason_phrase or resp.status_code)
        if resp.status_code == 404:
            raise BackendNotFound(self.service, detail, 404)
        if resp.status_code >= 500:
            raise BackendUnavailable(self.service, detail, resp.status_code)
        raise BackendRejected(self.service, detail, resp.status_code, problem)

    async def get_model(self, model: type[M], path: str, **kw: Any) -> M:
        answer = await self._exchange("GET", path, **kw)
        return model.model_validate_json(answer.content)

    async def get_as(self, type_: Any, path: str, **kw: Any) -> Any:
        answer = await self._exchange("GET", path, **kw)
        return TypeAdapter(type_).validate_json(answer.content)

    async def send_model(
        self, method: str, model: type[M], path: str, body: BaseModel | None = None, **kw: Any
    ) -> M:
        if body is not None:
            kw["json"] = body.model_dump(mode="json", exclude_unset=True)
        answer = await self._exchange(method, path, **kw)
        return model.model_validate_json(answer.content)
