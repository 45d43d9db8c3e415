"""Surviving retired metrics: what a provider refused this run, and what replaces it.

When a provider answers that a requested metric is not valid any more, the connector hands
the refused names to :meth:`MetricRetirement.retire`: they are dropped for the rest of
the run, the catalogue's replacement (``SourceField.replaced_by``) is asked for instead,
and a :class:`RetiredMetricNote` goes into the report. The whole fetch never fails for
one retired metric.
"""

from __future__ import annotations

import re

from services.ingest.connectors.base import SyncReport
from shared import metrics_catalogue
from shared.schemas.ingest import Network, RetiredMetricNote


def mentioned(message: str, names: list[str]) -> list[str]:
    """The names a provider's message mentions as whole words."""
    return [
        n
        for n in names
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) is not None
    ]


class MetricRetirement:
    """One run's memory of refused metrics, per scope (the catalogue field prefix)."""

    def __init__(self, network: Network, report: SyncReport) -> None:
        self.network = network
        self.report = report
        self._dropped: set[str] = set()  # "scope.metric" the provider refused
        self._swaps: dict[str, str] = {}  # "scope.metric" -> replacement metric

    def current(self, wanted: list[str], scope: str) -> list[str]:
        """The metrics to ask for now: replacements in place, refused ones left out."""
        out: list[str] = []
        for name in wanted:
            seen: set[str] = set()
            while f"{scope}.{name}" in self._swaps and name not in seen:
                seen.add(name)
                name = self._swaps[f"{scope}.{name}"]
            if f"{scope}.{name}" not in self._dropped and name not in out:
                out.append(name)
        return out

    def retire(
        self, rejected: list[str], metrics: list[str], scope: str, message: str
    ) -> list[str]:
        """Drop what the provider refused, note it, and return the metrics to ask now."""
        for name in rejected:
            key = f"{scope}.{name}"
            self._dropped.add(key)
            known = metrics_catalogue.retired_field(self.network.value, key)
            replacement = None
            if known is not None and known.replaced_by:
                candidate = known.replaced_by.split(".", 1)[1]
                if f"{scope}.{candidate}" not in self._dropped:
                    self._swaps[key] = replacement = candidate
            self.report.retired_metrics.append(
                RetiredMetricNote(
                    network=self.network,
                    retired=name,
                    replacement=replacement,
                    detail=message[:300],
                )
            )
        return self.current(metrics, scope)
