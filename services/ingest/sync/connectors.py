"""Finding and building the connector of a network, configured from settings.

Connector modules are ``services/ingest/connectors/<network>.py``, each with one class
implementing :class:`~services.ingest.connectors.base.Connector` for that network. Its
base URL and API version are the settings ``<network>_base_url`` / ``<network>_api_version``;
any other keyword its constructor takes (``analytics_base_url``…) is looked up as
``<network>_<keyword>``. Tests (and the job context) may pass their own factories.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from services.ingest.connectors.base import ProviderError, SyncReport

#: A way to build a connector: (http, settings, report) -> connector instance.
ConnectorFactory = Callable[[httpx.AsyncClient, Any, SyncReport], Any]

_RESERVED = {"self", "http", "base_url", "api_version", "report"}


def connector_class(network: str) -> type:
    try:
        module = importlib.import_module(f"services.ingest.connectors.{network}")
    except ModuleNotFoundError as exc:
        raise ProviderError(f"There is no connector for {network} yet.", provider=network) from exc
    for obj in vars(module).values():
        if (
            inspect.isclass(obj)
            and obj.__module__ == module.__name__
            and str(getattr(obj, "network", "")) == network
            and callable(getattr(obj, "account", None))
            and callable(getattr(obj, "daily_metrics", None))
            and callable(getattr(obj, "posts", None))
        ):
            return obj
    raise ProviderError(f"The {network} module has no connector class.", provider=network)


def default_factory(network: str) -> ConnectorFactory:
    cls = connector_class(network)

    def build(http: httpx.AsyncClient, settings: Any, report: SyncReport) -> Any:
        kwargs: dict[str, Any] = {
            "base_url": getattr(settings, f"{network}_base_url", "") or "",
            "api_version": getattr(settings, f"{network}_api_version", "") or "",
            "report": report,
        }
        for name in inspect.signature(cls).parameters:
            if name in _RESERVED:
                continue
            value = getattr(settings, f"{network}_{name}", None)
            if value not in (None, ""):
                kwargs[name] = value
        return cls(http, **kwargs)

    return build


def factory_for(network: str, overrides: Mapping[str, ConnectorFactory] | None) -> ConnectorFactory:
    if overrides and network in overrides:
        return overrides[network]
    return default_factory(network)
