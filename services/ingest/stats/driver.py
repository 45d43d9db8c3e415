# ruff: noqa: S608 - the column and parameter names pasted in are the callers' constants
"""Plain tuples straight from the database driver, for reads of tens of thousands of rows.

Going through SQLAlchemy's result objects costs several times the query itself when a
stats call reads 20,000 posts and as many daily counts (a ``Row`` per row, type
processing, the async adapter's buffering). These reads only need numbers, so they run
on the session's own driver connection (inside its transaction): ``aiosqlite``'s
``execute_fetchall`` or ``asyncpg``'s ``fetch``.

Queries are written once with ``:name`` parameters; :func:`in_ids` is the dialect's form
of "column in a list" (``json_each`` on SQLite, ``= ANY`` of an array on PostgreSQL).
Datetimes are bound in the form each dialect stores them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.perf import gc_paused

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def in_ids(dialect: str, column: str, name: str) -> str:
    if dialect == "sqlite":
        return f"{column} IN (SELECT value FROM json_each(:{name}))"
    return f"{column} = ANY(:{name})"


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return json.dumps([int(x) for x in v])
    if isinstance(v, dt.datetime):
        # SQLAlchemy's storage format on SQLite: naive UTC text with microseconds.
        return v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


async def fetch(session: AsyncSession, sql: str, params: dict[str, Any]) -> Sequence[Any]:
    """The rows of ``sql`` as sequences of plain values (tuples or asyncpg records).

    The collector is paused while the driver builds the rows (see :func:`gc_paused`).
    """
    with gc_paused():
        return await _fetch(session, sql, params)


async def _fetch(session: AsyncSession, sql: str, params: dict[str, Any]) -> Sequence[Any]:
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if conn.dialect.name == "sqlite":
        values = {k: _sqlite_value(v) for k, v in params.items()}
        return list(await driver.execute_fetchall(sql, values))
    order: list[str] = []

    def number(m: re.Match[str]) -> str:
        if m.group(1) not in order:
            order.append(m.group(1))
        return f"${order.index(m.group(1)) + 1}"

    pg_sql = _PARAM.sub(number, sql)
    args = [list(params[k]) if isinstance(params[k], tuple) else params[k] for k in order]
    return list(await driver.fetch(pg_sql, *args))
