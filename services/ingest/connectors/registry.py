"""Build connectors from the ingest settings: one place that knows every provider.

The sync layer creates one shared ``httpx.AsyncClient`` (``http_client``) in its lifespan
or job context and asks ``build(name, http, settings)`` for each account it syncs; the
connector then uses the base URL and API version of that provider's settings.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.ingest.config import IngestSettings
from services.ingest.connectors._http import HttpConnector, RetryPolicy
from services.ingest.connectors.base import SyncReport
from services.ingest.connectors.facebook import FacebookConnector
from services.ingest.connectors.ga4 import GA4Connector
from services.ingest.connectors.instagram import InstagramConnector
from services.ingest.connectors.linkedin import LinkedInConnector
from services.ingest.connectors.matomo import MatomoConnector
from services.ingest.connectors.pinterest import PinterestConnector
from services.ingest.connectors.plausible import PlausibleConnector
from services.ingest.connectors.x import XConnector
from services.ingest.connectors.youtube import YouTubeConnector

#: settings prefix (and network name) -> connector class
CONNECTORS: dict[str, type[HttpConnector]] = {
    "facebook": FacebookConnector,
    "instagram": InstagramConnector,
    "x": XConnector,
    "linkedin": LinkedInConnector,
    "youtube": YouTubeConnector,
    "pinterest": PinterestConnector,
    "ga4": GA4Connector,
    "matomo": MatomoConnector,
    "plausible": PlausibleConnector,
}


def http_client(settings: IngestSettings, **kw: Any) -> httpx.AsyncClient:
    """The shared client every connector call goes through (one pool for all providers)."""
    timeout = settings.connector_timeout_seconds
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        follow_redirects=False,  # a redirect would carry the Authorization header elsewhere
        headers={"User-Agent": "Balise/ingest"},
        **kw,
    )


def build(
    name: str,
    http: httpx.AsyncClient,
    settings: IngestSettings,
    *,
    report: SyncReport | None = None,
    **kw: Any,
) -> HttpConnector:
    """The connector for ``name`` (a network), configured from ``settings``."""
    try:
        cls = CONNECTORS[name]
    except KeyError as exc:
        raise KeyError(f"no connector for {name!r}; known: {', '.join(CONNECTORS)}") from exc
    options: dict[str, Any] = {
        "base_url": getattr(settings, f"{name}_base_url"),
        "api_version": getattr(settings, f"{name}_api_version"),
        "report": report,
        "retry": RetryPolicy(
            retries=settings.connector_retries,
            base=settings.connector_backoff_seconds,
            cap=settings.connector_backoff_cap_seconds,
        ),
    }
    if name == "youtube":
        options["analytics_base_url"] = settings.youtube_analytics_base_url
        options["analytics_api_version"] = settings.youtube_analytics_api_version
    options.update(kw)
    return cls(http, **options)
