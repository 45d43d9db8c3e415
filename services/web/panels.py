"""Load a backend's part of a page without letting its failure take the page down."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared.http import BackendError, BackendNotFound, BackendRejected, BackendUnavailable

T = TypeVar("T")


@dataclass
class Panel(Generic[T]):
    """The data of one panel, or why the panel is degraded."""

    service: str
    data: T | None = None
    error: str | None = None
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def panel(service: str, call: Awaitable[T]) -> Panel[T]:
    try:
        return Panel(service, data=await call)
    except BackendUnavailable as exc:
        return Panel(service, error=str(exc) or "unreachable", status=exc.status)
    except BackendNotFound as exc:
        return Panel(service, error=f"not found: {exc}", status=404)
    except BackendRejected as exc:
        return Panel(service, error=str(exc), status=exc.status)
    except BackendError as exc:  # pragma: no cover - the three above cover the base
        return Panel(service, error=str(exc))


async def panels(calls: dict[str, Awaitable[Any]]) -> dict[str, Panel[Any]]:
    """Run several backend calls side by side (one fan-out per page)."""
    keys = list(calls)
    results = await asyncio.gather(*(panel(k.split(":")[0], calls[k]) for k in keys))
    return dict(zip(keys, results, strict=True))
