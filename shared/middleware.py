"""Pure ASGI middleware shared by the four services.

Written as plain ASGI callables rather than ``BaseHTTPMiddleware`` because they sit on
every request: they add the request id, enforce the body limit, count requests for
Prometheus and write one access-log line, at a cost of a few microseconds.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from shared.logging import request_id_var

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("balise.access")
_rng = random.Random()
# Reseeded in a forked child (uvicorn's workers) so processes never share a sequence; the
# check used to be a getpid() system call on every request.
os.register_at_fork(after_in_child=_rng.seed)


def _rand(bits: int) -> int:
    """Random bits (a request id: unique, not secret)."""
    return _rng.getrandbits(bits)


_UPLOAD_TYPES = (b"multipart/form-data", b"application/octet-stream", b"text/csv")


class _TooLarge(Exception):
    pass


def _problem_bytes(status: int, title: str, detail: str, rid: str | None) -> bytes:
    body: dict[str, Any] = {
        "type": "https://balise.dev/problems/payload-too-large",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if rid:
        body["request_id"] = rid
    return json.dumps(body).encode()


class Metrics:
    """One Prometheus registry per app, so tests can build many apps in one process."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "balise_http_requests_total",
            "HTTP requests answered, by route template and status.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "balise_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["service", "method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.jobs = Counter(
            "balise_jobs_total",
            "Jobs finished, by name and outcome.",
            ["service", "job", "outcome"],
            registry=self.registry,
        )
        self.service = service


class BaliseMiddleware:
    """Request id, body limit, metrics and access log in one pass."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        metrics: Metrics,
        max_body_bytes: int,
        max_upload_bytes: int,
        quiet_paths: tuple[str, ...] = ("/healthz", "/readyz", "/metrics"),
    ) -> None:
        self.app = app
        self.service = service
        self.metrics = metrics
        self.max_body = max_body_bytes
        self.max_upload = max_upload_bytes
        self.quiet = quiet_paths
        self._cache: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid_raw = headers.get(b"x-request-id", b"").decode("latin-1")[:128]
        # A request id needs to be unique, not unguessable: the Mersenne generator costs a
        # fraction of uuid4's urandom call on every request.
        rid = rid_raw if rid_raw and rid_raw.isprintable() else f"{_rand(128):032x}"
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status_holder = [500]
        ctype = headers.get(b"content-type", b"")
        limit = self.max_upload if ctype.startswith(_UPLOAD_TYPES) else self.max_body

        # Set once the body passed the limit: whatever the app then answers (FastAPI turns
        # the failed read of a form into a 400) is replaced by the 413.
        over = {"limit": False, "answered": False}

        async def send_wrapper(message: Message) -> None:
            if over["limit"]:
                if not over["answered"]:
                    over["answered"] = True
                    status_holder[0] = 413
                    await self._reject(send, rid, limit)
                return
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                hdrs = list(message.get("headers") or [])
                hdrs.append((b"x-request-id", rid.encode()))
                message["headers"] = hdrs
            await send(message)

        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await self._reject(send, rid, limit)
                status_holder[0] = 413
                return
            received = 0

            async def receive_wrapper() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        over["limit"] = True
                        raise _TooLarge
                return message

            try:
                await self.app(scope, receive_wrapper, send_wrapper)
            except _TooLarge:
                if not over["answered"]:
                    over["answered"] = True
                    status_holder[0] = 413
                    await self._reject(send, rid, limit)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            counter, latency = self._series(method, template, status_holder[0])
            counter.inc()
            latency.observe(elapsed)
            path = scope.get("path", "")
            if path not in self.quiet and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %s %.1fms",
                    method,
                    path,
                    status_holder[0],
                    elapsed * 1000,
                    extra={
                        "fields": {
                            "method": method,
                            "path": path,
                            "status": status_holder[0],
                            "ms": round(elapsed * 1000, 2),
                        }
                    },
                )
            request_id_var.reset(token)

    def _series(self, method: str, template: str, status: int) -> tuple[Any, Any]:
        """The request counter and latency histogram of these labels, looked up once:
        ``labels()`` takes a lock and checks its arguments on every call. Routes are
        templates and methods and statuses few, so the cache stays small; an unmatched
        path is labelled "unmatched", never by itself."""
        key = (method, template, status)
        series = self._cache.get(key)
        if series is None:
            if len(self._cache) >= 4096:
                self._cache.clear()
            m = self.metrics
            series = self._cache[key] = (
                m.requests.labels(self.service, method, template, str(status)),
                m.latency.labels(self.service, method, template),
            )
        return series

    async def _reject(self, send: Send, rid: str, limit: int) -> None:
        body = _problem_bytes(
            413,
            "Request body too large",
            f"The request body exceeds the limit of {limit} bytes.",
            rid,
        )
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", rid.encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        except RuntimeError:
            # The app had already started its response; nothing more can be said.
            pass
