"""Localized reports in other scripts and languages, rendered for real (WeasyPrint, fonts-noto-cjk, poppler): CJK glyphs
come from a CJK font (no tofu), Arabic runs right to left, German has its headings, figures, notes and hyphenation."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from actors.localization.adapt import adapt
from actors.localization.profiles import country_profile
from actors.mcp._market_data import rates_table
from actors.report import render_html, render_pdf
from actors.report.i18n import translations_for
from schemas.localization import LocalizedReport
from schemas.pipeline import ReportInput
from tests.unit.test_report_render import make_report

pytestmark = pytest.mark.integration

TODAY = date(2026, 11, 30)
_HAN = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")


def localized(locale: str, *, translations: dict[str, str] | None = None) -> ReportInput:
    """The realistic test report, localized for `locale` with its market's adaptation (stub: nothing translated)."""
    report = make_report(markets=["DE", "FR", "JP", "AE"], competitors=["Alpro"],
                         product={"name": "Oatly Barista", "category": "plant-based dairy alternatives"})
    market = locale.split("_")[-1]
    adaptation = adapt(report, country_profile(market, today=TODAY), rates_table(), TODAY)
    status = "translated" if translations else "untranslated"
    return report.model_copy(update={"localization": LocalizedReport(
        locale=locale, language=locale.split("_")[0], rtl=locale.startswith("ar"), status=status,
        reason="" if translations else "openai, gemini, xai: stub providers do not translate",
        translations=translations or {}, adaptation=adaptation)})


def _fonts(pdf: bytes) -> set[str]:
    """Base names of the fonts embedded in a PDF (subset prefixes dropped)."""
    names: set[str] = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            base = str(font.get_object().get("/BaseFont", ""))
            names.add(base.split("+", 1)[-1].lstrip("/"))
    return names


def _first_page_png(pdf: bytes, tmp_path: Path) -> Path:
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", str(source), str(tmp_path / "page")], check=True)
    return next(tmp_path.glob("page*.png"))


def test_japanese_renders_with_a_cjk_font_not_tofu(tmp_path: Path) -> None:
    report = localized("ja_JP")
    html = render_html(report)
    assert '<html lang="ja-JP" dir="ltr" class="localized">' in html
    heading = translations_for("ja_JP").gettext("Executive summary")
    assert _HAN.search(heading) and heading in html
    pdf = render_pdf(html)
    fonts = _fonts(pdf)
    assert any("CJK" in f for f in fonts), fonts  # the Japanese glyphs come from Noto Sans CJK, not a blank box
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert len(_HAN.findall(text)) > 50
    assert _first_page_png(pdf, tmp_path).stat().st_size > 5000


def test_arabic_renders_right_to_left_with_arabic_glyphs() -> None:
    html = render_html(localized("ar_AE"))
    assert '<html lang="ar-AE" dir="rtl" class="localized">' in html
    pdf = render_pdf(html)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert len(_ARABIC.findall(text)) > 50  # headings, country names, holidays in Arabic
    assert any("DejaVu" in f or "Arab" in f for f in _fonts(pdf))


def test_a_german_report_has_german_headings_figures_notes_and_marks_stub_text() -> None:
    report = localized("de_DE")
    html = render_html(report)
    german = translations_for("de_DE").gettext
    for message in ("Executive summary", "Check before you publish", "Markets at a glance", "Public holidays in the next %(days)s days"):
        heading = german(message).replace("%(days)s", "90")
        assert heading != message.replace("%(days)s", "90") and heading in html, message
    assert "1,1\xa0Mrd.\xa0€" in html or "1,1 Mrd. €" in html  # babel's figures, never the model's
    assert "C-422/16" in html and "untranslated-mark" in html
    assert 'class="localized"' in html and "hyphens: auto" in html


def test_translated_text_replaces_the_source_and_loses_its_mark() -> None:
    report = localized("de_DE")
    source = report.merge.claims[0].text  # type: ignore[union-attr]
    html = render_html(localized("de_DE", translations={source: "Der deutsche Markt liegt bei etwa 1,1 Mrd. EUR."}))
    assert "Der deutsche Markt liegt bei etwa 1,1 Mrd. EUR." in html and source not in html
