"""The best time slots per network, from the audit's and the benchmark's data.

A slot is (weekday, hour) in the space's timezone, Monday = 0. When engagement by slot is
known (``engagement_heatmap`` of the account stats) the slots are ranked by it; otherwise
by how often the client's peers and the client post there (``posting_heatmap``), which
shows established practice, not measured response. Without any data, defaults are used
and labelled as such.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.schemas.ingest import AccountStats, Network

#: Weekday working-hours slots used when there is no data at all.
DEFAULT_SLOTS: list[tuple[int, int]] = [
    (1, 12),
    (3, 12),
    (2, 17),
    (0, 9),
    (4, 11),
    (1, 19),
    (3, 8),
    (5, 10),
    (6, 19),
    (2, 9),
]


def rank(stats: Iterable[AccountStats], limit: int = 14) -> dict[Network, list[tuple[int, int]]]:
    """Ranked slots per network from account stats (client's and peers')."""
    scores: dict[Network, dict[tuple[int, int], float]] = {}
    for st in stats:
        heat = getattr(st, "engagement_heatmap", None) or st.posting_heatmap
        if not heat:
            continue
        cells = scores.setdefault(st.network, {})
        for day, row in enumerate(heat[:7]):
            for hour, v in enumerate(row[:24]):
                if v:
                    cells[(day, hour)] = cells.get((day, hour), 0.0) + float(v)
    return {
        net: [k for k, _ in sorted(cells.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]
        for net, cells in scores.items()
        if cells
    }
