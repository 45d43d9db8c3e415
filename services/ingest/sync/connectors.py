"""The connector of a network, as the sync builds it: the connectors' own registry
(:mod:`services.ingest.connectors.registry`) unless the job context brings factories
(the tests' small providers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from services.ingest.connectors import registry
from services.ingest.connectors.base import ProviderError, SyncReport

#: A way to build a connector: (http, settings, report) -> connector instance.
ConnectorFactory = Callable[[httpx.AsyncClient, Any, SyncReport], Any]


def connector_class(network: str) -> type:
    try:
        return registry.CONNECTORS[network]
    except KeyError as exc:
        raise ProviderError(f"There is no connector for {network}.", provider=network) from exc


def default_factory(network: str) -> ConnectorFactory:
    connector_class(network)  # fail early, with a clear error, for an unknown network

    def build(http: httpx.AsyncClient, settings: Any, report: SyncReport) -> Any:
        return registry.build(network, http, settings, report=report)

    return build


def factory_for(network: str, overrides: Mapping[str, ConnectorFactory] | None) -> ConnectorFactory:
    if overrides and network in overrides:
        return overrides[network]
    return default_factory(network)


def http_client(settings: Any) -> httpx.AsyncClient:
    """The one client a sync job's connector calls go through."""
    return registry.http_client(settings)
