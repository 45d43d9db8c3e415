"""The SVG charts: valid XML, accessible, no inline style, gaps for missing data, PDF-ready."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET

from shared import charts

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    t_id, d_id = root.get("aria-labelledby", "").split()
    assert root.find("s:title", NS).get("id") == t_id
    assert root.find("s:desc", NS).get("id") == d_id
    assert "style" not in svg.replace("font-", "")  # CSP: no style attributes or elements
    return root


def test_line_chart_breaks_on_missing_values():
    d = dt.date(2024, 3, 1)
    pts = [
        (d, 10.0),
        (d + dt.timedelta(days=1), 12.0),
        (d + dt.timedelta(days=2), None),
        (d + dt.timedelta(days=3), 11.0),
        (d + dt.timedelta(days=4), 15.0),
    ]
    root = parse(charts.line_chart([charts.Series("Facebook <FB>", pts)], title="Followers & co"))
    assert root.find("s:title", NS).text == "Followers & co"
    lines = root.findall("s:polyline", NS)
    assert len(lines) == 2  # the gap splits the line; no zero is drawn
    assert all(len(pl.get("points").split()) == 2 for pl in lines)
    assert "4 points, from 10 to 15" in root.find("s:desc", NS).text
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "2024-03-01" in texts and "2024-03-05" in texts


def test_empty_chart_says_no_data():
    root = parse(charts.line_chart([charts.Series("x", [])], title="T", no_data="Aucune donnée"))
    assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")] == ["Aucune donnée"]
    root = parse(charts.bar_chart([], [], title="T"))
    assert root.findall("s:rect", NS) == []


def test_bar_and_grouped_bars():
    root = parse(
        charts.bar_chart(
            ["video", "photo", "text"], [0.05, None, 0.025], title="ER", value_format=charts.pct
        )
    )
    rects = root.findall("s:rect", NS)
    assert len(rects) == 2
    widths = sorted(float(r.get("width")) for r in rects)
    assert widths[1] == __import__("pytest").approx(2 * widths[0], rel=0.01)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "5.0 %" in texts and "No data" in texts
    assert "photo: No data" in root.find("s:desc", NS).text
    root = parse(
        charts.grouped_bar_chart(
            ["FB", "IG"], {"previous": [3, 4], "current": [5, None]}, title="Posts"
        )
    )
    bars = [r for r in root.findall("s:rect", NS) if float(r.get("height")) > 10]
    assert len(bars) == 3
    assert {"previous", "current"} <= {
        t.text for t in root.iter("{http://www.w3.org/2000/svg}text")
    }


def test_heatmap_cells_and_missing():
    grid = [[None] * 24 for _ in range(7)]
    grid[1][9] = 4
    grid[6][23] = 1
    root = parse(
        charts.heatmap(
            grid,
            row_labels=["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"],
            col_labels=[str(h) for h in range(24)],
            title="Posts by hour",
        )
    )
    cells = root.findall("s:rect", NS)
    assert len(cells) == 168
    by_title = {c.find("s:title", NS).text: c.get("fill") for c in cells}
    assert by_title["Tu 9: 4"] == "#1f6f8b"  # the darkest
    assert by_title["Mo 0: No data"] == "#eef1f3"
    assert "highest 4 at Tu 9" in root.find("s:desc", NS).text


def test_quartiles_with_marked_value():
    q = charts.Quartiles(
        "ER by follower", 0.001, 0.01, 0.02, 0.03, 0.08, marked=0.05, marked_label="client"
    )
    root = parse(charts.quartile_bars([q], title="Peers", value_format=charts.pct))
    assert "marked 5.0 %" in root.find("s:desc", NS).text
    assert "client" in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_charts_embed_in_a_pdf():
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    d = dt.date(2024, 3, 1)
    for svg in (
        charts.line_chart([charts.Series("a", [(d, 1), (d + dt.timedelta(days=9), 3)])], title="L"),
        charts.bar_chart(["a", "b"], [1, 2], title="B"),
    ):
        pdf.image(io.BytesIO(svg.encode()), w=170)
    out = bytes(pdf.output())
    assert out.startswith(b"%PDF") and len(out) > 1000
