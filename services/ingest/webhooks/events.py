"""The events ingest sends to webhook subscribers, and its outbox."""

from __future__ import annotations

from services.ingest.webhooks.models import IngestWebhookDelivery, IngestWebhookSubscription
from shared.outbox import EventType, Outbox

SYNC_COMPLETED = "ingest.sync.completed"
SYNC_FAILED = "ingest.sync.failed"
IMPORT_COMPLETED = "ingest.import.completed"
REAUTH_REQUIRED = "ingest.account.reauth_required"

EVENTS = (
    EventType(
        SYNC_COMPLETED,
        "A sync of one account from its network's API finished; counts of what was stored.",
        {
            "run_id": 42,
            "connection_id": 7,
            "account_id": 12,
            "network": "x",
            "kind": "daily",
            "window": {"start": "2026-03-01", "end": "2026-03-03"},
            "counts": {"daily_rows": 9, "posts": 4, "post_metrics": 24},
            "retired_metrics": [],
        },
    ),
    EventType(
        SYNC_FAILED,
        "A sync failed (provider error, quota exhausted or the account needs reconnecting).",
        {
            "run_id": 43,
            "connection_id": 7,
            "account_id": 12,
            "network": "x",
            "status": "failed",
            "error": "x: the provider answered 503",
            "retryable": True,
            "resume_at": None,
        },
    ),
    EventType(
        IMPORT_COMPLETED,
        "An import of a native export file ended, stored or refused; counts of what was stored.",
        {
            "import_id": 31,
            "job_id": "9f1c2e…",
            "file": "posts.csv",
            "sha256": "5d41402abc4b2a76b9719d911017c592…",
            "format": "meta_business_suite_posts",
            "status": "succeeded",
            "posts": 120,
            "daily_rows": 0,
            "accounts": 1,
            "errors_total": 0,
        },
    ),
    EventType(
        REAUTH_REQUIRED,
        "A connection's token was refused by the network: someone must reconnect it.",
        {
            "connection_id": 7,
            "provider": "meta",
            "account_ids": [12, 13],
            "reason": "facebook: Error validating access token (code 190)",
        },
    ),
)

outbox = Outbox("ingest", IngestWebhookSubscription, IngestWebhookDelivery, EVENTS)
