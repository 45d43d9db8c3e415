"""What every benchmark shares: the figure type, its two printed lines, and timing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured figure next to its baseline measured in the same run.

    ``target`` is ``">=0.5"`` / ``"<=2.0"`` on the ratio (value ÷ baseline), or an absolute
    bound with a unit such as ``"<=500ms"`` on the value.
    """

    name: str
    value: float
    unit: str
    target: str
    baseline: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline  # type: ignore[operator]

    @property
    def met(self) -> bool:
        op, bound, absolute = parse_target(self.target)
        subject = self.value if absolute else self.ratio
        if subject is None:
            return False
        return subject >= bound if op == ">=" else subject <= bound


def parse_target(target: str) -> tuple[str, float, bool]:
    op = target[:2]
    rest = target[2:]
    digits = "".join(ch for ch in rest if ch.isdigit() or ch in ".-")
    absolute = rest != digits  # a unit follows the number
    return op, float(digits), absolute


def print_figure(fig: Figure) -> None:
    ratio = fig.ratio
    base = f"{fig.baseline:.6g}" if fig.baseline is not None else "-"
    r = f"{ratio:.3f}" if ratio is not None else "-"
    verdict = "met" if fig.met else "MISSED"
    human = f"   {fig.name}: {fig.value:.6g} {fig.unit}"
    if fig.baseline is not None:
        human += f" vs baseline {base} {fig.unit} (ratio {r})"
    human += f", target {fig.target}: {verdict}"
    if fig.note:
        human += f" — {fig.note}"
    print(human)
    print(
        f"BENCH {fig.name} value={fig.value:.6g} unit={fig.unit} baseline={base} "
        f"ratio={r} target={fig.target}",
        flush=True,
    )


def median_time(fn: Callable[[], object], runs: int = 20, warmup: int = 2) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)
