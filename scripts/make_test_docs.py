"""Write the test documents under tests/data/docs (run once; the files are committed, this says how they were made).

Usage: python scripts/make_test_docs.py [OUT_DIR]
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

MARKET_ROWS = [
    ("market", "segment", "year", "market_value_eur_m", "growth_pct", "oat_share_pct"),
    ("DE", "plant-based milk", 2023, 1180.0, 6.8, 52.0),
    ("FR", "plant-based milk", 2023, 640.0, 5.1, 38.0),
    ("NL", "plant-based milk", 2023, 310.0, 7.9, 44.0),
]
PRICE_ROWS = [
    ("brand", "market", "barista_price_eur", "barista_share_pct"),
    ("Alpro", "DE", 2.29, 24.0),
    ("Minor Figures", "DE", 2.79, 9.5),
    ("Alpro", "FR", 2.19, 27.0),
    ("Califia Farms", "NL", 3.09, 6.0),
]
LONG_ROWS = [("market", "metric", "year", "value"), ("DE", "oat share", 2023, 52), ("FR", "oat share", 2023, 38)]

NOTES_HTML = """<html><head><meta charset="utf-8"><title>Launch notes</title></head><body>
<h1>Barista oat drink: launch notes</h1>
<h2>Retail visits</h2>
<p>In March we visited 40 specialty coffee shops in Berlin and Hamburg. Baristas said foam stability matters more
than taste; 31 of the 40 shops already stock an oat drink for coffee.</p>
<p>The field lead, Jonas Becker (jonas.becker@example.org, +49 30 1234567), collected the interview notes.</p>
<h2>Pricing</h2>
<p>Shelf prices for barista oat drinks ranged from EUR 2.19 to EUR 3.09 per litre. Private labels sell at
EUR 1.49.</p>
</body></html>"""


def xlsx(path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Plant milk"
    for row in MARKET_ROWS:
        sheet.append(row)
    prices = book.create_sheet("Barista prices")
    for row in PRICE_ROWS:
        prices.append(row)
    long = book.create_sheet("Shares (long)")
    for row in LONG_ROWS:
        long.append(row)
    book.save(path)


def csv_file(path: Path) -> None:
    path.write_text("\n".join(",".join(str(c) for c in row) for row in MARKET_ROWS) + "\n", encoding="utf-8")


def pdf(path: Path, html: str = NOTES_HTML) -> None:
    from weasyprint import HTML

    HTML(string=html).write_pdf(path)


def encrypted_pdf(path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    buffer = io.BytesIO()
    from weasyprint import HTML

    HTML(string="<p>Secret pricing plan.</p>").write_pdf(buffer)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.encrypt(user_password="open-sesame", owner_password="owner", algorithm="AES-128")
    with path.open("wb") as fh:
        writer.write(fh)


def docx(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.add_heading("Consumer panel summary", level=1)
    doc.add_paragraph("Panel of 120 urban coffee drinkers aged 25-40, interviewed in Amsterdam and Paris.")
    doc.add_heading("What resonates", level=2)
    doc.add_paragraph("Claims about foam and taste in coffee scored highest; climate claims scored lower.")
    table = doc.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("claim", "market", "preference_pct")):
        cell.text = text
    for claim, market, pct in (("Foams like dairy", "NL", 61), ("Lower CO2", "NL", 22), ("Foams like dairy", "FR", 57)):
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = claim, market, str(pct)
    doc.save(path)


def pptx(path: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Barista channel plan"
    slide.placeholders[1].text = "Start with 300 specialty cafes in Berlin.\nSampling budget EUR 80,000."
    slide.notes_slide.notes_text_frame.text = "Speaker note: cafe partners want a 12-month price guarantee."
    deck.save(path)


def zip_bomb_xlsx(path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    xlsx(out / "market.xlsx")
    csv_file(out / "market.csv")
    pdf(out / "notes.pdf")
    (out / "notes.html").write_text(NOTES_HTML, encoding="utf-8")
    (out / "notes.md").write_text(
        "# Distribution notes\n\n## Wholesale\n\nTwo wholesalers cover 70% of specialty cafes in the Netherlands.\n\n"
        "## Risks\n\nA price war with private labels would cut margins.\n", encoding="utf-8")
    docx(out / "panel.docx")
    pptx(out / "plan.pptx")
    encrypted_pdf(out / "encrypted.pdf")
    zip_bomb_xlsx(out / "bomb.xlsx")
    (out / "diagram.odg").write_bytes(b"PK\x03\x04 not a type we read")
    (out / "notes-ja.md").write_text(
        "# 市場メモ\n\n東京のカフェ300店でオーツミルクの試飲を行いました。担当は山田太郎です。\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "tests/data/docs")
