"""The navigation of the four steps of the method.

A step's pages arrive with their own feature; until then the navigation shows the step
as not yet available (no fake page). A feature router marks its step available by
adding its path here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    key: str
    number: int
    label: str  # English msgid, translated in templates
    title: str
    path: str | None  # relative to /c/{slug}/, None while not available

    @property
    def available(self) -> bool:
        return self.path is not None


STEPS: tuple[Step, ...] = (
    Step("analyse", 1, "Analyse", "Analyse the existing spaces", "analyse"),
    Step("benchmark", 2, "Benchmark", "Benchmark peers and relays", "benchmark"),
    Step("plan", 3, "Plan", "Compose the action plan", "plan"),
    Step("implementation", 4, "Implementation", "Implement and track", "implementation"),
)


def step(key: str) -> Step | None:
    return next((s for s in STEPS if s.key == key), None)
