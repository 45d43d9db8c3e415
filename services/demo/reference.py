"""The published figures the demo draws around (``data/reference.json``, with sources).

Every rate is a ratio (0.0006 = 0.06 %) and states its denominator. Figures without a
published source in Balise's reference material are marked ``assumption`` in the file.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    basis: str

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high


@dataclass(frozen=True)
class Reference:
    raw: dict[str, Any]

    def er_by_follower_band(self, network: str) -> Band | None:
        entry = self.raw["engagement_rate_by_follower"].get(network)
        if entry is None:
            return None
        return Band(entry["band"][0], entry["band"][1], entry["basis"])

    def er_by_follower_target(self, network: str) -> float | None:
        entry = self.raw["engagement_rate_by_follower"].get(network)
        return None if entry is None else entry["client_target"]

    def er_by_impression(self, network: str) -> float:
        return float(self.raw["engagement_rate_by_impression"][network]["value"])

    def er_by_exposure_band(self, network: str) -> Band | None:
        entry = self.raw["engagement_rate_bands_by_exposure"].get(network)
        if entry is None:
            return None
        return Band(entry["band"][0], entry["band"][1], entry["basis"])

    def posts_per_week_target(self, network: str) -> float | None:
        return self.raw["posts_per_week"][network]["client_target"]

    def posts_per_week_band(self, network: str) -> Band:
        entry = self.raw["posts_per_week"][network]
        return Band(
            entry["band"][0], entry["band"][1], self.raw["basis_of_bands_for_posts_per_week"]
        )

    def monthly_growth(self, network: str) -> float:
        return float(self.raw["monthly_follower_growth"][network])

    def tier_boundaries(self) -> list[tuple[str, int, int | None]]:
        return [(b["tier"], b["min"], b["max"]) for b in self.raw["influencer_tiers"]["boundaries"]]

    def tier_of(self, followers: float) -> str | None:
        for tier, low, high in self.tier_boundaries():
            if followers >= low and (high is None or followers < high):
                return tier
        return None

    def instagram_er_for_tier(self, tier: str) -> float:
        return float(
            self.raw["influencer_tiers"]["instagram_engagement_rate_by_follower"][tier]["value"]
        )

    def mass_follower_threshold(self) -> int:
        return int(self.raw["influencer_tiers"]["mass_follower_followings"]["value"])


@functools.cache
def load_reference() -> Reference:
    """The shipped reference data (read once; the file is part of the package)."""
    text = resources.files("services.demo").joinpath("data/reference.json").read_text("utf-8")
    return Reference(json.loads(text))
