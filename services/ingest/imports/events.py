"""What an import announces when it ends.

:func:`emit_import_completed` is the **single call site** of the
``ingest.import.completed`` webhook event: every import (API job or CLI) that ends,
stored or refused, passes here once, inside the transaction that records its outcome.
It writes the event to ingest's outbox (``services.ingest.webhooks.events``), sent to the
client's subscribers once the transaction commits; imports emit nothing else.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.imports.models import Import
from services.ingest.webhooks.events import outbox

log = logging.getLogger("balise.ingest.imports")

IMPORT_COMPLETED = "ingest.import.completed"


def import_completed_payload(imp: Import) -> dict[str, Any]:
    """The event's data: which file, its format, what was stored (or why not)."""
    counts = imp.counts or {}
    return {
        "import_id": imp.id,
        "job_id": imp.job_id,
        "file": imp.file_name,
        "sha256": imp.sha256,
        "format": imp.format,
        "status": imp.status,
        "posts": int(counts.get("posts", 0)),
        "daily_rows": int(counts.get("daily_rows", 0)) + int(counts.get("web_rows", 0)),
        "accounts": int(counts.get("accounts", 0)),
        "errors_total": imp.errors_total,
    }


async def emit_import_completed(session: AsyncSession, imp: Import) -> None:
    """Announce the end of an import (see the module docstring)."""
    if imp.client_id is not None:
        await outbox.emit(session, imp.client_id, IMPORT_COMPLETED, import_completed_payload(imp))
    log.info(
        "import finished",
        extra={
            "event": IMPORT_COMPLETED,
            "client_id": imp.client_id,
            "payload": import_completed_payload(imp),
        },
    )
