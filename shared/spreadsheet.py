"""Cells of the CSV and XLSX files Balise writes: never a formula a spreadsheet would run.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(…)`` becomes a
live link, ``=cmd|…`` a command). Such text (a post's caption, a relay's name, an account
name coming from a platform) is prefixed with ``'`` so the sheet shows it as text: the
OWASP advice for CSV injection. Numbers stay numbers (a negative growth is data).

Every export goes through :func:`neutralise` (or :func:`csv_cell` for CSV writers).
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value``, with text a spreadsheet would run as a formula prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_cell(value: Any) -> str:
    """One CSV cell: empty for ``None``, numbers as written, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, str):
        return str(neutralise(value))
    return f"{value}"


def csv_row(values: Any) -> list[str]:
    return [csv_cell(v) for v in values]
