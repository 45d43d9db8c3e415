"""Typed client of the benchmark backend."""

from __future__ import annotations

from services.web.clients import ServiceClient


class BenchmarkClient(ServiceClient):
    service = "benchmark"
