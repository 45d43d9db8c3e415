"""Typed client of the ingest backend."""

from __future__ import annotations

from services.web.clients import ServiceClient
from services.web.clients.connections import ConnectionsClientMixin
from services.web.clients.ingest_audit import IngestAuditMixin
from services.web.clients.ingest_imports import IngestImportsMixin
from services.web.clients.webhooks import WebhooksClientMixin


class IngestClient(
    IngestImportsMixin,
    IngestAuditMixin,
    ConnectionsClientMixin,
    WebhooksClientMixin,
    ServiceClient,
):
    service = "ingest"
