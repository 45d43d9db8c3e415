"""Render a :class:`~services.planner.exports.content.Report` as Markdown, DOCX or PDF.

The PDF embeds the DejaVu fonts (every French character) and draws its charts as vector
bar charts; DOCX comes from python-docx; Markdown is plain GitHub-flavoured tables.
"""

from __future__ import annotations

import io
from pathlib import Path

from services.planner.exports.content import Chart, Report

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(r: Report) -> str:
    out = [f"# {r.title}", "", r.subtitle, ""]
    for s in r.sections:
        out += [f"## {s.title}", ""]
        out += [p + "\n" for p in s.paragraphs]
        for head, rows in s.tables:
            out.append("| " + " | ".join(_md_cell(h) for h in head) + " |")
            out.append("|" + "---|" * len(head))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("")
        out += [f"- {b}" for b in s.bullets]
        if s.bullets:
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def docx(r: Report) -> bytes:
    from docx import Document

    d = Document()
    d.core_properties.title = r.title
    d.core_properties.language = "fr-CA" if r.locale == "fr_CA" else "en"
    d.add_heading(r.title, level=0)
    d.add_paragraph(r.subtitle)
    for s in r.sections:
        d.add_heading(s.title, level=1)
        for p in s.paragraphs:
            d.add_paragraph(p)
        for head, rows in s.tables:
            t = d.add_table(rows=1, cols=len(head))
            t.style = "Light Grid Accent 1"
            for i, h in enumerate(head):
                t.rows[0].cells[i].text = h
            for row in rows:
                cells = t.add_row().cells
                for i, c in enumerate(row):
                    cells[i].text = c
            d.add_paragraph("")
        for b in s.bullets:
            d.add_paragraph(b, style="List Bullet")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _pdf_chart(pdf: object, chart: Chart) -> None:
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 7, chart.title, new_x="LMARGIN", new_y="NEXT")
    top = max((max(a, b or 0) for _, a, b in chart.bars), default=0) or 1
    label_w, bar_w, row_h = 55, pdf.epw - 75, 5
    pdf.set_font("DejaVu", "", 8)
    for label, a, b in chart.bars:
        if pdf.get_y() > pdf.h - 30:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_w, row_h, label[:40])
        x0 = pdf.l_margin + label_w
        pdf.set_fill_color(148, 163, 184)
        pdf.rect(x0, y + 0.5, bar_w * a / top, row_h / 2 - 0.5, style="F")
        if b is not None:
            pdf.set_fill_color(37, 99, 235)
            pdf.rect(x0, y + row_h / 2, bar_w * b / top, row_h / 2 - 0.5, style="F")
        pdf.set_xy(x0 + bar_w + 2, y)
        pdf.cell(18, row_h, f"{a:,.0f}" + (f" → {b:,.0f}" if b is not None else ""))
        pdf.set_y(y + row_h + 1)
    legend = [(chart.legend[0], (148, 163, 184))]
    if chart.legend[1]:
        legend.append((chart.legend[1], (37, 99, 235)))
    y = pdf.get_y() + 1
    x = pdf.l_margin + label_w
    for text, color in legend:
        pdf.set_fill_color(*color)
        pdf.rect(x, y + 1, 4, 3, style="F")
        pdf.set_xy(x + 5, y)
        pdf.cell(40, 5, text)
        x += 45
    pdf.set_y(y + 8)


def pdf(r: Report) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    doc = FPDF(format="A4")
    doc.set_title(r.title)
    doc.set_lang("fr-CA" if r.locale == "fr_CA" else "en")
    doc.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    doc.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    doc.set_auto_page_break(True, margin=15)
    doc.add_page()
    doc.set_font("DejaVu", "B", 18)
    doc.multi_cell(0, 9, r.title, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("DejaVu", "", 10)
    doc.multi_cell(0, 6, r.subtitle, new_x="LMARGIN", new_y="NEXT")
    doc.ln(4)
    for s in r.sections:
        doc.set_font("DejaVu", "B", 14)
        doc.multi_cell(0, 8, s.title, new_x="LMARGIN", new_y="NEXT")
        doc.set_font("DejaVu", "", 9)
        for p in s.paragraphs:
            doc.multi_cell(0, 5, p, new_x="LMARGIN", new_y="NEXT")
            doc.ln(1)
        for head, rows in s.tables:
            with doc.table(
                headings_style=FontFace(emphasis="BOLD", fill_color=(226, 232, 240)),
                line_height=5,
                text_align="LEFT",
            ) as table:
                hrow = table.row()
                for h in head:
                    hrow.cell(h)
                for row in rows:
                    trow = table.row()
                    for c in row:
                        trow.cell(c)
            doc.ln(2)
        for b in s.bullets:
            doc.multi_cell(0, 5, f"• {b}", new_x="LMARGIN", new_y="NEXT")
        for ch in s.charts:
            doc.ln(2)
            _pdf_chart(doc, ch)
        doc.ln(3)
    return bytes(doc.output())
