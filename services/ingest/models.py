"""Tables of the ingest service (all prefixed `ingest_`)."""

from __future__ import annotations

from services.ingest.audit.models import AuditReportFile  # noqa: F401
from services.ingest.connections.models import Connection, OAuthState  # noqa: F401
from services.ingest.imports.models import ColumnMappingRow, Import  # noqa: F401
from services.ingest.store.models import (  # noqa: F401 - every table, for Alembic
    Account,
    ChannelTotal,
    DailyMetric,
    Post,
    PostMetric,
    PostMetricLatest,
    SourceRecord,
    WebMetric,
    WebPeriodMetric,
)
from services.ingest.sync.models import SyncRun  # noqa: F401
from services.ingest.webhooks.models import (  # noqa: F401
    IngestWebhookDelivery,
    IngestWebhookSubscription,
    PushMessage,
    PushSecret,
)
from shared.jobs import JobBase, recent_jobs_index


class IngestJob(JobBase, table=True):
    __tablename__ = "ingest_job"
    __table_args__ = (recent_jobs_index("ingest_job"),)
