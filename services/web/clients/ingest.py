"""Typed client of the ingest backend."""

from __future__ import annotations

from services.web.clients import ServiceClient


class IngestClient(ServiceClient):
    service = "ingest"
