"""The best time slots per network, from the engagement measured in the audit's data.

A slot is (weekday, hour) in the accounts' timezone, Monday = 0. Per network, the slots
are ranked by the mean engagement rate by follower of the posts published there
(``engagement_heatmap`` of ingest's account stats, pooled over accounts weighted by their
posts), counting only slots with at least :data:`SLOT_MIN_POSTS` such posts (the audit's
threshold: fewer is anecdote):

1. the client's own slots first, best first: its audience's measured response;
2. then, where the client lacks data (a slot below the threshold, or no account on the
   network), its peers' slots, best first: the benchmark's evidence;
3. with no measured slot at all on a network, :data:`DEFAULT_SLOTS` (weekday
   working-hours habits, no measurement), and the source says ``default``.

Each network's ranking says where it came from (:data:`SOURCES`) so the plan can state
it. How often the client or its peers post in a slot is practice, not response, and does
not rank slots.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from shared.schemas.ingest import AccountStats, Network

#: Fewest rated posts in a slot for its rate to count (as the audit's heatmap).
SLOT_MIN_POSTS = 3

#: Weekday working-hours slots used when there is no measured slot at all.
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

CLIENT = "client"
CLIENT_AND_PEERS = "client+peers"
PEERS = "peers"
DEFAULT = "default"

SOURCES = {
    CLIENT: "the client's measured engagement by slot",
    CLIENT_AND_PEERS: "the client's measured engagement by slot, then its peers' where "
    "the client has too few posts",
    PEERS: "the peers' measured engagement by slot (the client has too few posts there)",
    DEFAULT: "no measured slot: default weekday working-hours slots",
}

Cell = tuple[int, int]


@dataclass
class BestSlots:
    """Ranked slots per network and where each ranking came from."""

    slots: dict[Network, list[Cell]] = field(default_factory=dict)
    sources: dict[Network, str] = field(default_factory=dict)

    def for_network(self, network: Network) -> tuple[list[Cell], str]:
        """The network's slots, or the defaults when nothing was measured there."""
        ranked = self.slots.get(network)
        if ranked:
            return ranked, self.sources[network]
        return list(DEFAULT_SLOTS), DEFAULT


def _pool(stats: Iterable[AccountStats]) -> dict[Network, dict[Cell, tuple[float, int]]]:
    """Per network and slot: (sum of rate × posts, posts) over the accounts."""
    out: dict[Network, dict[Cell, tuple[float, int]]] = {}
    for st in stats:
        rates, posts = st.engagement_heatmap, st.engagement_heatmap_posts
        if not rates or not posts:
            continue
        cells = out.setdefault(st.network, {})
        for day in range(min(7, len(rates), len(posts))):
            for hour in range(min(24, len(rates[day]), len(posts[day]))):
                r, n = rates[day][hour], posts[day][hour]
                if r is None or not n:
                    continue
                s, m = cells.get((day, hour), (0.0, 0))
                cells[(day, hour)] = (s + r * n, m + n)
    return out


def _ranked(cells: dict[Cell, tuple[float, int]], min_posts: int) -> list[Cell]:
    kept = [(c, s / n, n) for c, (s, n) in cells.items() if n >= min_posts]
    kept.sort(key=lambda x: (-x[1], -x[2], x[0]))
    return [c for c, _, _ in kept]


def best(
    stats: Iterable[AccountStats],
    client_accounts: Collection[int],
    *,
    limit: int = 14,
    min_posts: int = SLOT_MIN_POSTS,
) -> BestSlots:
    """Rank each network's slots: the client's measured ones, then its peers'."""
    own: list[AccountStats] = []
    peers: list[AccountStats] = []
    for st in stats:
        (own if st.account_id in client_accounts else peers).append(st)
    mine, theirs = _pool(own), _pool(peers)
    out = BestSlots()
    for net in sorted(set(mine) | set(theirs), key=lambda n: n.value):
        first = _ranked(mine.get(net, {}), min_posts)
        then = [c for c in _ranked(theirs.get(net, {}), min_posts) if c not in first]
        ranked = (first + then)[:limit]
        if not ranked:
            continue
        if first and len(first) < len(ranked):
            source = CLIENT_AND_PEERS
        elif first:
            source = CLIENT
        else:
            source = PEERS
        out.slots[net] = ranked
        out.sources[net] = source
    return out
