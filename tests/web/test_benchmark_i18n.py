"""Every message of step 2's pages has a Québec French translation."""

from __future__ import annotations

import re
from pathlib import Path

from services.web.i18n import catalog

ROOT = Path(__file__).resolve().parents[2] / "services" / "web"
MSG = re.compile(r"""_\(\s*(?P<q>["'])(?P<m>(?:(?!(?P=q)).)*)(?P=q)""")


def test_benchmark_pages_are_translated():
    fr = catalog("fr_CA")
    ids = set()
    for path in (ROOT / "templates" / "benchmark").glob("*.html"):
        ids |= {m.group("m") for m in MSG.finditer(path.read_text(encoding="utf-8"))}
    from services.web.routers.benchmark import KPI_LABELS
    from services.web.routers.benchmark_relays import COMPONENTS, STATUSES, TIERS

    ids |= set(KPI_LABELS.values()) | set(COMPONENTS) | set(STATUSES) | set(TIERS)
    missing = sorted(i for i in ids if i not in fr)
    assert not missing, missing
