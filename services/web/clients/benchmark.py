"""Typed client of the benchmark backend."""

from __future__ import annotations

from services.web.clients import ServiceClient
from services.web.clients.webhooks import WebhooksClientMixin


class BenchmarkClient(WebhooksClientMixin, ServiceClient):
    service = "benchmark"
