"""The demo agency: generated deterministically (fixed seed), loaded into every service.

Like the CLI this is a composition root: it writes each service's data through that
service's own functions.
"""

from __future__ import annotations

from typing import Any


async def load() -> dict[str, Any]:
    from services.demo.loader import load_all

    return await load_all()
