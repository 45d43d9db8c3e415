"""The web app's own routes (from its routers, so a page added later is walked too)."""

from __future__ import annotations

import re
from typing import Any

ROUTER_MODULES = (
    "auth",
    "audit",
    "plan",
    "connections",
    "webhooks",
    "benchmark",
    "benchmark_relays",
    "home",
    "admin",
    "tokens",
    "jobs",
    "imports",
)


def web_routes() -> list[tuple[str, str]]:
    """(METHOD, path) of every page and form of the web UI (not /internal: bearer-only)."""
    import importlib
    import pkgutil

    import services.web.routers as package

    with_router = {
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if hasattr(importlib.import_module(f"services.web.routers.{m.name}"), "router")
    }
    assert with_router - {"internal"} == set(ROUTER_MODULES), (
        "a web router is missing from tests/security/web_routes.py: "
        f"{sorted(with_router - {'internal'} - set(ROUTER_MODULES))}"
    )
    out = []
    for name in ROUTER_MODULES:
        router = importlib.import_module(f"services.web.routers.{name}").router
        for route in router.routes:
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    out.append((method, route.path))
    return out


def fill(path: str, params: dict[str, Any]) -> str:
    """``path`` with each parameter replaced by the seeded resource of that name."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "job_id":
            key = "planner.job_id" if "/plan/" in path else "ingest.job_id"
        elif name in ("sub_id", "delivery_id", "import_id", "connection_id"):
            key = f"ingest.{name}"
        else:
            key = name
        assert key in params, (
            f"{path}: seed a resource for {{{name}}} in tests/security/conftest.py"
        )
        return str(params[key])

    return re.sub(r"\{([a-z_]+)\}", value, path)
