"""Typed client of the ingest backend."""

from __future__ import annotations

from services.web.clients import ServiceClient
from services.web.clients.ingest_audit import IngestAuditMixin


class IngestClient(IngestAuditMixin, ServiceClient):
    service = "ingest"
