"""Small server-side SVG charts for pages and PDF reports.

Every function returns one self-contained ``<svg>`` string: ``role="img"`` with a
``<title>`` and a ``<desc>`` (screen readers, and the tooltip), sizes in a ``viewBox`` so
CSS can scale it, colours as SVG presentation attributes (never ``style=``, which the
pages' CSP forbids), and only elements fpdf2's SVG renderer understands (``rect``,
``line``, ``polyline``, ``circle``, ``text``, ``g``), so the same string goes into a PDF
with ``pdf.image(io.BytesIO(svg.encode()))``.

Missing values (``None``) are gaps, never zeros: a line breaks, a bar is replaced by a
"no data" mark, a heat-map cell is hatched grey.

    line_chart([Series("Facebook", [(day, 1200.0), ...])], title="Followers")
    bar_chart(["video", "photo"], [0.031, None], title="ER by type", value_format=pct)
    grouped_bar_chart(["FB", "IG"], {"previous": [1, 2], "current": [2, 3]}, title="Posts")
    heatmap(grid_7x24, row_labels=DAYS, col_labels=[str(h) for h in range(24)], title="…")
    quartile_bars([Quartiles("ER", low, q1, median, q3, high, marked=0.021)], title="…")
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

PALETTE = ("#1f6f8b", "#e07a1f", "#4c9a2a", "#8e44ad", "#c0392b", "#7f8c8d", "#b7950b")
MUTED = "#9aa5ad"
INK = "#1d2a33"
FONT = "DejaVu Sans, sans-serif"

Number = float | int
Formatter = Callable[[float], str]


def plain(v: float) -> str:
    """Default value format: thousands separated, one decimal below 100."""
    return f"{v:,.0f}" if abs(v) >= 100 or v == int(v) else f"{v:,.1f}"


def pct(v: float) -> str:
    """A ratio as a percentage (0.034 → "3.4 %")."""
    return f"{v * 100:.1f} %"


@dataclass
class Series:
    name: str
    points: Sequence[tuple[dt.date | Number, Number | None]]
    color: str | None = None


@dataclass
class Quartiles:
    """A distribution (low/high whiskers, quartiles, median) and one value marked on it."""

    label: str
    low: float
    q1: float
    median: float
    q3: float
    high: float
    marked: float | None = None
    marked_label: str | None = None


@dataclass
class _Svg:
    width: int
    height: int
    title: str
    desc: str
    css_class: str
    parts: list[str] = field(default_factory=list)

    def add(self, s: str) -> None:
        self.parts.append(s)

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        anchor: str = "start",
        size: int = 11,
        color: str = INK,
        weight: str | None = None,
    ) -> None:
        w = f' font-weight="{weight}"' if weight else ""
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="{FONT}" font-size="{size}" '
            f'fill="{color}" text-anchor="{anchor}"{w}>{escape(s)}</text>'
        )

    def render(self) -> str:
        uid = (
            "c"
            + hashlib.sha1(  # noqa: S324 - a stable element id, not security
                (self.title + self.desc + "".join(self.parts)).encode()
            ).hexdigest()[:10]
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class={quoteattr(self.css_class)} '
            f'width="{self.width}" height="{self.height}" '
            f'viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d">'
            f'<title id="{uid}-t">{escape(self.title)}</title>'
            f'<desc id="{uid}-d">{escape(self.desc)}</desc>' + "".join(self.parts) + "</svg>"
        )


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _axis_range(values: Sequence[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    if lo == hi:
        lo, hi = (0.0, hi * 1.2 or 1.0) if hi >= 0 else (hi * 1.2, 0.0)
    if lo >= 0 and lo < (hi - lo):
        lo = 0.0
    pad = (hi - lo) * 0.05
    return lo - (pad if lo < 0 else 0), hi + pad


def _no_data(svg: _Svg, message: str) -> str:
    svg.text(svg.width / 2, svg.height / 2, message, anchor="middle", color=MUTED, size=13)
    return svg.render()


def _x_value(x: dt.date | Number) -> float:
    return float(x.toordinal()) if isinstance(x, dt.date) else float(x)


def _x_label(x: dt.date | Number) -> str:
    return x.isoformat() if isinstance(x, dt.date) else plain(float(x))


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    width: int = 640,
    height: int = 240,
    value_format: Formatter = plain,
    no_data: str = "No data",
    css_class: str = "chart chart-line",
) -> str:
    """One or more time (or x/y) series; ``None`` values break the line."""
    known = [(x, y) for s in series for x, y in s.points if y is not None]
    desc = "; ".join(
        f"{s.name}: {len([p for p in s.points if p[1] is not None])} points"
        + (
            f", from {value_format(float(first))} to {value_format(float(last))}"
            if (vals := [y for _, y in s.points if y is not None])
            and (first := vals[0]) is not None
            and (last := vals[-1]) is not None
            else ""
        )
        for s in series
    )
    svg = _Svg(width, height, title, desc or no_data, css_class)
    if not known:
        return _no_data(svg, no_data)
    left, right, top, bottom = 64, 12, 12, 40 + (16 if len(series) > 1 else 0)
    xs = [_x_value(x) for x, _ in known]
    x0, x1 = min(xs), max(xs)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    y0, y1 = _axis_range([float(y) for _, y in known])
    pw, ph = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - (y - y0) / (y1 - y0) * ph

    for i in range(5):
        v = y0 + (y1 - y0) * i / 4
        svg.add(
            f'<line x1="{left}" x2="{left + pw}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
            f'stroke="#e3e8eb" stroke-width="1"/>'
        )
        svg.text(left - 6, py(v) + 4, value_format(v), anchor="end", size=10, color=MUTED)
    first_x = min(known, key=lambda p: _x_value(p[0]))[0]
    last_x = max(known, key=lambda p: _x_value(p[0]))[0]
    svg.text(left, top + ph + 16, _x_label(first_x), size=10, color=MUTED)
    svg.text(left + pw, top + ph + 16, _x_label(last_x), anchor="end", size=10, color=MUTED)
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        run: list[str] = []
        runs: list[list[str]] = []
        for x, y in sorted(s.points, key=lambda p: _x_value(p[0])):
            if y is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{px(_x_value(x)):.1f},{py(float(y)):.1f}")
        if run:
            runs.append(run)
        for r in runs:
            if len(r) == 1:
                cx, cy = r[0].split(",")
                svg.add(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{color}"/>')
            else:
                svg.add(
                    f'<polyline points="{" ".join(r)}" fill="none" stroke="{color}" '
                    f'stroke-width="2"/>'
                )
        if len(series) > 1:
            lx = left + i * 130
            svg.add(f'<rect x="{lx}" y="{height - 12}" width="10" height="10" fill="{color}"/>')
            svg.text(lx + 14, height - 3, s.name, size=10)
    return svg.render()


def bar_chart(
    labels: Sequence[str],
    values: Sequence[Number | None],
    *,
    title: str,
    width: int = 640,
    height: int | None = None,
    value_format: Formatter = plain,
    no_data: str = "No data",
    css_class: str = "chart chart-bar",
) -> str:
    """Horizontal bars, one per label; a ``None`` value is written "no data", not drawn."""
    return grouped_bar_chart(
        labels,
        {"": values},
        title=title,
        width=width,
        height=height,
        value_format=value_format,
        no_data=no_data,
        css_class=css_class,
    )


def grouped_bar_chart(
    labels: Sequence[str],
    groups: Mapping[str, Sequence[Number | None]],
    *,
    title: str,
    width: int = 640,
    height: int | None = None,
    value_format: Formatter = plain,
    no_data: str = "No data",
    css_class: str = "chart chart-bars",
) -> str:
    """Horizontal bars: for each label, one bar per group (e.g. previous and current)."""
    names = list(groups)
    n = len(names)
    bar_h = 14
    row_h = n * bar_h + 10
    legend = 18 if n > 1 or (names and names[0]) else 0
    height = height or (len(labels) * row_h + 12 + legend)
    desc = "; ".join(
        f"{lab}: "
        + ", ".join(
            f"{g + ' ' if g else ''}{value_format(float(v)) if v is not None else no_data}"
            for g in names
            for v in [groups[g][i] if i < len(groups[g]) else None]
        )
        for i, lab in enumerate(labels)
    )
    svg = _Svg(width, height, title, desc or no_data, css_class)
    known = [float(v) for g in names for v in groups[g] if v is not None]
    if not labels or not known:
        return _no_data(svg, no_data)
    left, right = min(200, max(60, 7 * max(len(label) for label in labels) + 12)), 70
    lo = min(0.0, min(known))
    hi = max(0.0, _nice_max(max(known)) if max(known) > 0 else 0.0)
    if hi == lo:
        hi = lo + 1
    pw = width - left - right

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * pw

    for i, lab in enumerate(labels):
        y = 6 + i * row_h
        svg.text(left - 6, y + n * bar_h / 2 + 4, lab, anchor="end")
        for j, g in enumerate(names):
            v = groups[g][i] if i < len(groups[g]) else None
            by = y + j * bar_h
            color = PALETTE[j % len(PALETTE)]
            if v is None:
                svg.text(px(0) + 4, by + bar_h - 3, no_data, size=10, color=MUTED)
                continue
            x_a, x_b = sorted((px(0), px(float(v))))
            svg.add(
                f'<rect x="{x_a:.1f}" y="{by:.1f}" width="{max(x_b - x_a, 0.5):.1f}" '
                f'height="{bar_h - 2}" fill="{color}"/>'
            )
            svg.text(x_b + 4, by + bar_h - 3, value_format(float(v)), size=10)
    svg.add(
        f'<line x1="{px(0):.1f}" x2="{px(0):.1f}" y1="2" y2="{height - legend - 4}" '
        f'stroke="{MUTED}" stroke-width="1"/>'
    )
    if legend:
        for j, g in enumerate(names):
            lx = left + j * 130
            svg.add(
                f'<rect x="{lx}" y="{height - 14}" width="10" height="10" '
                f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            )
            svg.text(lx + 14, height - 5, g, size=10)
    return svg.render()


def _heat_color(t: float) -> str:
    """White to the palette's blue, ``t`` in [0, 1]."""
    t = max(0.0, min(1.0, t))
    r, g, b = (int(255 + (c - 255) * t) for c in (0x1F, 0x6F, 0x8B))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    matrix: Sequence[Sequence[Number | None]],
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
    width: int = 640,
    value_format: Formatter = plain,
    no_data: str = "No data",
    css_class: str = "chart chart-heatmap",
) -> str:
    """A grid (e.g. 7 days × 24 hours); darker is more, hatched grey is no data."""
    rows, cols = len(matrix), max((len(r) for r in matrix), default=0)
    left, top = 44, 18
    cell_w = (width - left - 8) / max(cols, 1)
    cell_h = min(22.0, cell_w)
    height = int(top + rows * cell_h + 8)
    known = [float(v) for r in matrix for v in r if v is not None]
    best = max(
        ((float(v), i, j) for i, r in enumerate(matrix) for j, v in enumerate(r) if v is not None),
        default=None,
    )
    desc = f"{len(known)} of {rows * cols} cells have data" + (
        f"; highest {value_format(best[0])} at {row_labels[best[1]]} {col_labels[best[2]]}"
        if best
        else ""
    )
    svg = _Svg(width, height, title, desc, css_class)
    if not known:
        return _no_data(svg, no_data)
    hi = max(known) or 1.0
    for j, lab in enumerate(col_labels):
        if cols <= 12 or j % 3 == 0:
            svg.text(
                left + j * cell_w + cell_w / 2, top - 5, lab, anchor="middle", size=9, color=MUTED
            )
    for i, row in enumerate(matrix):
        y = top + i * cell_h
        svg.text(left - 5, y + cell_h / 2 + 4, row_labels[i], anchor="end", size=10)
        for j, v in enumerate(row):
            x = left + j * cell_w
            fill = "#eef1f3" if v is None else _heat_color(float(v) / hi if hi > 0 else 0.0)
            label = f"{row_labels[i]} {col_labels[j]}: " + (
                value_format(float(v)) if v is not None else no_data
            )
            svg.add(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w - 1:.1f}" '
                f'height="{cell_h - 1:.1f}" fill="{fill}"><title>{escape(label)}</title></rect>'
            )
    return svg.render()


def quartile_bars(
    items: Sequence[Quartiles],
    *,
    title: str,
    width: int = 640,
    value_format: Formatter = plain,
    css_class: str = "chart chart-quartiles",
) -> str:
    """Box plots on one shared scale, each with an optional marked value (a diamond)."""
    row_h = 30
    height = len(items) * row_h + 24
    desc = "; ".join(
        f"{q.label}: median {value_format(q.median)}, quartiles {value_format(q.q1)}–"
        f"{value_format(q.q3)}, range {value_format(q.low)}–{value_format(q.high)}"
        + (f", marked {value_format(q.marked)}" if q.marked is not None else "")
        for q in items
    )
    svg = _Svg(width, height, title, desc or "No data", css_class)
    if not items:
        return _no_data(svg, "No data")
    values = [v for q in items for v in (q.low, q.high, q.marked) if v is not None]
    lo, hi = _axis_range(values)
    left = min(200, max(60, 7 * max(len(q.label) for q in items) + 12))
    pw = width - left - 16

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * pw

    for i, q in enumerate(items):
        y = 8 + i * row_h
        mid = y + 10
        svg.text(left - 6, mid + 4, q.label, anchor="end")
        svg.add(
            f'<line x1="{px(q.low):.1f}" x2="{px(q.high):.1f}" y1="{mid}" y2="{mid}" '
            f'stroke="{MUTED}" stroke-width="1"/>'
        )
        svg.add(
            f'<rect x="{px(q.q1):.1f}" y="{y + 2}" width="{max(px(q.q3) - px(q.q1), 1):.1f}" '
            f'height="16" fill="#d6e6ec" stroke="{PALETTE[0]}" stroke-width="1"/>'
        )
        svg.add(
            f'<line x1="{px(q.median):.1f}" x2="{px(q.median):.1f}" y1="{y + 2}" '
            f'y2="{y + 18}" stroke="{PALETTE[0]}" stroke-width="2"/>'
        )
        if q.marked is not None:
            mx = px(q.marked)
            svg.add(
                f'<polyline points="{mx:.1f},{mid - 7} {mx + 6:.1f},{mid} {mx:.1f},{mid + 7} '
                f'{mx - 6:.1f},{mid} {mx:.1f},{mid - 7}" fill="{PALETTE[1]}" stroke="none"/>'
            )
            svg.text(
                mx,
                y + 28,
                q.marked_label or value_format(q.marked),
                anchor="middle",
                size=9,
                color=PALETTE[1],
            )
    svg.text(left, height - 2, value_format(lo), size=9, color=MUTED)
    svg.text(left + pw, height - 2, value_format(hi), anchor="end", size=9, color=MUTED)
    return svg.render()
