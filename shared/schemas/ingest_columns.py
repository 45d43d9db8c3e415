"""Columnar streams of ingest's numbers, for consumers that read whole populations.

Scoring 100,000 relays cannot go through one JSON object per post. Ingest therefore
offers two bulk reads that answer ``application/x-ndjson``: each line is one *chunk*, a
JSON object whose columns are equal-length arrays, either plain JSON lists
(``encoding="json"``) or base64 of little-endian machine arrays (``encoding="base64"``,
the fast path: decoding 5 M floats takes ~0.15 s instead of ~2.5 s).

* ``POST /v1/stats/posts/columns`` (:class:`PostColumnsQuery`) streams posts published in
  ``[start, end]`` with ``account_id``, ``published_at`` (epoch seconds, UTC), the asked
  ``metrics`` (latest snapshot; canonical names, plus ``followers_at_post``) and, when
  ``text_last > 0``, the text of each account's ``text_last`` newest posts.
* ``POST /v1/stats/daily/columns`` (:class:`DailyColumnsQuery`) streams daily account
  metrics (e.g. ``followers``, ``following``) with ``account_id``, ``day`` (days since
  1970-01-01) and ``value``.

Missing is not zero: a float column carries NaN (base64) or null (json) for "no data".
Rows come ordered by ``account_id`` then time, which lets readers group without sorting.
:func:`encode_chunk` and :func:`decode_chunk` are the one codec both sides use.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

NDJSON = "application/x-ndjson"
EPOCH = dt.date(1970, 1, 1)

#: dtype of each well-known column; any other numeric column is float64 (NaN = no data).
INT_COLUMNS = {"account_id": "<i8", "published_at": "<i8", "day": "<i8", "post_id": "<i8"}
TEXT_COLUMNS = {"text", "content_type", "metric"}


class PostColumnsQuery(BaseModel):
    account_ids: list[int] = Field(max_length=100_000)
    start: dt.date
    end: dt.date = Field(description="inclusive, on published_at (UTC)")
    metrics: list[str] = Field(
        default_factory=lambda: ["engagements", "followers_at_post"],
        description="canonical post metrics, plus 'followers_at_post'",
        max_length=20,
    )
    text_last: int = Field(default=0, ge=0, le=200, description="texts of the N newest posts")
    encoding: Literal["json", "base64"] = "base64"
    chunk_rows: int = Field(default=50_000, ge=100, le=500_000)


class DailyColumnsQuery(BaseModel):
    account_ids: list[int] = Field(max_length=100_000)
    start: dt.date
    end: dt.date = Field(description="inclusive")
    metrics: list[str] = Field(default_factory=lambda: ["followers"], max_length=10)
    encoding: Literal["json", "base64"] = "base64"
    chunk_rows: int = Field(default=200_000, ge=100, le=1_000_000)


def epoch_day(day: dt.date) -> int:
    return (day - EPOCH).days


def _dtype(name: str) -> str:
    return INT_COLUMNS.get(name, "<f8")


def encode_chunk(
    columns: Mapping[str, Any],
    *,
    encoding: str = "base64",
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    """One NDJSON line (with its newline) holding ``columns`` (equal lengths)."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    body: dict[str, Any] = {"n": n, "encoding": encoding, **dict(extra or {}), "columns": {}}
    for name, values in columns.items():
        if name in TEXT_COLUMNS:
            body["columns"][name] = [None if v is None else str(v) for v in values]
            continue
        arr = np.asarray(values, dtype=_dtype(name))
        if encoding == "base64":
            body["columns"][name] = base64.b64encode(arr.tobytes()).decode("ascii")
        elif arr.dtype.kind == "f":
            body["columns"][name] = [None if math.isnan(x) else x for x in arr.tolist()]
        else:
            body["columns"][name] = arr.tolist()
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def decode_chunk(line: bytes | str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """``(n, columns, extra)`` of one line; numeric columns come back as NumPy arrays."""
    body = json.loads(line)
    n = int(body["n"])
    encoding = body.get("encoding", "json")
    out: dict[str, Any] = {}
    for name, values in body["columns"].items():
        if name in TEXT_COLUMNS:
            out[name] = values
            continue
        dtype = _dtype(name)
        if encoding == "base64":
            arr: npt.NDArray[Any] = np.frombuffer(base64.b64decode(values), dtype=dtype)
        elif dtype == "<f8":
            arr = np.array([np.nan if v is None else v for v in values], dtype=dtype)
        else:
            arr = np.asarray(values, dtype=dtype)
        if arr.shape[0] != n:
            raise ValueError(f"column {name!r} has {arr.shape[0]} values, expected {n}")
        out[name] = arr
    extra = {k: v for k, v in body.items() if k not in ("n", "encoding", "columns")}
    return n, out, extra
