"""Local stand-ins for the providers' APIs: a small Starlette app per test.

A :class:`Stub` answers by path with handlers that receive the recorded :class:`Call` and
return a :class:`Reply` (status, JSON body, headers). A list of replies is served in order,
one per call, so "503 then 200" is ``[Reply(503), Reply(200, body)]``. Every request is
recorded so tests can assert the exact number of calls and what they carried. The
connectors reach it through ``httpx.ASGITransport``: no socket, no real network.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "api"
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)


def fixture(name: str) -> Any:
    """A provider answer written in the official format (tests/ingest/fixtures/api)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Call:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    url: str

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


Handler = Callable[[Call], Reply] | Reply | list[Reply]


class Stub:
    def __init__(self, base_url: str = "https://stub.test") -> None:
        self.base_url = base_url
        self.calls: list[Call] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self.app = Starlette(
            routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST", "PUT", "DELETE"])]
        )

    def on(self, method: str, path: str, handler: Handler) -> Stub:
        self._routes[(method.upper(), path)] = handler
        return self

    def client(self, timeout: float | None = None, time_out_first: int = 0) -> httpx.AsyncClient:
        """A client reaching this stub; the first ``time_out_first`` calls time out."""
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=self.app)
        if time_out_first:
            transport = TimingOut(transport, time_out_first)
        return httpx.AsyncClient(transport=transport, timeout=timeout or 5.0)

    def paths(self) -> list[str]:
        return [c.path for c in self.calls]

    async def _dispatch(self, request: Request) -> Response:
        call = Call(
            method=request.method,
            path=request.url.path,
            query=parse_qsl(request.url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
            url=str(request.url),
        )
        self.calls.append(call)
        handler = self._routes.get((call.method, call.path))
        if handler is None:
            return JSONResponse({"stub": f"no route for {call.method} {call.path}"}, 404)
        if isinstance(handler, list):
            if not handler:
                return JSONResponse({"stub": "no reply left"}, 599)
            reply = handler.pop(0)
        elif isinstance(handler, Reply):
            reply = handler
        else:
            reply = handler(call)
        if reply.raw is not None:
            return Response(reply.raw, reply.status, headers=reply.headers)
        return JSONResponse(reply.body, reply.status, headers=reply.headers)


class TimingOut(httpx.AsyncBaseTransport):
    """Wraps a transport so its first calls raise a read timeout (and are recorded)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, count: int) -> None:
        self.inner = inner
        self.left = count
        self.timeouts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.left:
            self.left -= 1
            self.timeouts += 1
            raise httpx.ReadTimeout("stub: read timed out", request=request)
        return await self.inner.handle_async_request(request)


class Sleeps:
    """Records the backoff waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def clock(moment: dt.datetime = NOW) -> Callable[[], dt.datetime]:
    return lambda: moment


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]
