"""Seeded randomness for the demo: one independent stream per named part.

Streams are keyed by strings (``stream(seed, "client", "instagram", "posts")``) so that
changing one part of the generator never shifts the numbers of another. They are
:class:`random.Random` instances seeded with a string, whose sequence Python guarantees
across platforms and versions; the few distributions the standard library lacks are
written here on top of ``random()`` for the same reason.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def stream(seed: int, *keys: object) -> random.Random:
    return random.Random(f"balise-demo/{seed}/" + "/".join(str(k) for k in keys))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth's method for small means, a rounded normal above 30)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def around(rng: random.Random, median: float, sigma: float) -> float:
    """A log-normal draw with the given median (``sigma`` is the spread of its log)."""
    return median * math.exp(rng.gauss(0.0, sigma))


def weighted(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]


def sample(rng: random.Random, items: Sequence[T], k: int) -> list[T]:
    return rng.sample(list(items), k=min(k, len(items)))
