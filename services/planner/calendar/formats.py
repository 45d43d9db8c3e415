"""Calendar exports: the iCalendar feed (RFC 5545) and bulk-upload CSV files.

* **ICS**: one VEVENT per item (UTC times, 30 minutes), stable UIDs so a calendar app
  updates an item instead of duplicating it; text escaped and lines folded at 75 octets.
* **Hootsuite bulk composer**: one file per social profile, three columns and no header —
  date and time (``dd/mm/yyyy HH:MM``, 24 h, the profile's local time, minutes a multiple of
  5), the message, an optional link; at most 350 messages a file.
* **Generic CSV** (header row) for spreadsheets and other tools.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from services.planner.calendar.models import CalendarItem
from shared.spreadsheet import csv_row

HOOTSUITE_MAX_ROWS = 350


def _ics_escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for ch in line:
        b = ch.encode()
        if len(current) + len(b) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # continuation lines start with a space
        current += b
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(
    items: Iterable[CalendarItem],
    *,
    name: str,
    pillars: dict[str, str],
    host: str = "balise",
    now: dt.datetime | None = None,
) -> str:
    now = now or dt.datetime.now(dt.UTC)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Balise//Planner//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_escape(name)}",
    ]
    for it in items:
        summary = it.title or it.network
        desc = "\n".join(
            x
            for x in (
                f"Network: {it.network}",
                f"Pillar: {pillars[it.pillar_id]}" if it.pillar_id in pillars else "",
                f"Format: {it.format}" if it.format else "",
                f"Status: {it.status}",
                it.text,
                it.link or "",
            )
            if x
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:planner-item-{it.id}@{host}",
            f"DTSTAMP:{_stamp(now)}",
            f"LAST-MODIFIED:{_stamp(it.updated_at)}",
            f"DTSTART:{_stamp(it.scheduled_at)}",
            "DURATION:PT30M",
            f"SUMMARY:{_ics_escape(f'[{it.network}] {summary}')}",
            f"DESCRIPTION:{_ics_escape(desc)}",
            f"CATEGORIES:{_ics_escape(it.network)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(x) for x in lines) + "\r\n"


def _local(when: dt.datetime, tz: str) -> dt.datetime:
    local = when.astimezone(ZoneInfo(tz))
    # Hootsuite refuses times whose minutes are not a multiple of 5: round up.
    extra = (-local.minute) % 5
    return (local + dt.timedelta(minutes=extra)).replace(second=0, microsecond=0)


def hootsuite_csv(items: Sequence[CalendarItem], tz: str) -> str:
    """Hootsuite's bulk composer file for one profile (call once per network)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for it in items[:HOOTSUITE_MAX_ROWS]:
        w.writerow(
            csv_row(
                [
                    _local(it.scheduled_at, tz).strftime("%d/%m/%Y %H:%M"),
                    (it.text or it.title).strip(),
                    it.link or "",
                ]
            )
        )
    return buf.getvalue()


GENERIC_HEADER = [
    "date",
    "time",
    "timezone",
    "network",
    "animator",
    "pillar",
    "format",
    "title",
    "text",
    "link",
    "status",
]


def generic_csv(
    items: Iterable[CalendarItem], tz: str, animators: dict[str, str], pillars: dict[str, str]
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(GENERIC_HEADER)
    for it in items:
        local = it.scheduled_at.astimezone(ZoneInfo(tz))
        w.writerow(
            csv_row(
                [
                    local.date().isoformat(),
                    local.strftime("%H:%M"),
                    tz,
                    it.network,
                    animators.get(it.animator_id or "", ""),
                    pillars.get(it.pillar_id or "", ""),
                    it.format or "",
                    it.title,
                    it.text,
                    it.link or "",
                    it.status,
                ]
            )
        )
    return buf.getvalue()
