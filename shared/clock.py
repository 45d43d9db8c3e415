"""Time helpers: Balise stores aware UTC datetimes everywhere."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Aware UTC now: SQLModel's UTCDateTime columns store and return aware datetimes."""
    return dt.datetime.now(dt.UTC)
