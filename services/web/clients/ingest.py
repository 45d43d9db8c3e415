"""Typed client of the ingest backend."""

from __future__ import annotations

from services.web.clients import ServiceClient
from services.web.clients.ingest_audit import IngestAuditMixin
from services.web.clients.ingest_imports import IngestImportsMixin


class IngestClient(IngestImportsMixin, IngestAuditMixin, ServiceClient):
    service = "ingest"
