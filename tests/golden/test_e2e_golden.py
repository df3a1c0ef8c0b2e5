"""Golden end-to-end run: recorded provider answers → byte-stable merge result and stable report text.

The whole pipeline runs in-process (`tests/inprocess.py`: JobRunner + LocalAgents, real PII, real MCP
market-data server, stub LLMs replaying recorded answers, real merge, real report HTML) on SQLite. Ids and
times are deterministic or normalized. Regenerate after an intended change with
`MKA_UPDATE_GOLDEN=1 python -m pytest tests/golden/test_e2e_golden.py`.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from schemas import JobState
from tests.inprocess import run_in_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

HERE = Path(__file__).parent / "e2e"
ROOT = Path(__file__).resolve().parents[2]
UPDATE = os.environ.get("MKA_UPDATE_GOLDEN") == "1"


def run_recorded_job(tmp_path: Path) -> tuple[str, str]:
    """Run the example brief with the recorded answers in-process; the merge result JSON and the report HTML."""
    merge_text, report_html, _ = run_recorded_job_exports(tmp_path)
    return merge_text, report_html


def run_recorded_job_exports(tmp_path: Path) -> tuple[str, str, str]:
    """Run the example brief with the recorded answers in-process; the merge JSON, the report HTML and Markdown."""
    brief = yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text())
    recorded = json.loads((HERE / "recorded_answers.json").read_text())
    recorded.pop("_comment", None)
    done = run_in_process(tmp_path, brief, recorded)
    assert done.job.state == JobState.COMPLETED, done.job.error
    assert done.merge is not None and done.html is not None and done.markdown is not None
    charts = sorted(a.key for a in done.artifacts if a.kind == "chart")
    job_id = done.job.id
    prefix = f"projects/{done.job.project}/jobs/{job_id}"
    assert charts == [f"{prefix}/chart-competitors.svg", f"{prefix}/chart-market-size.svg"]
    merge_text = json.dumps(done.merge, indent=2, sort_keys=True) + "\n"
    return merge_text, done.html, done.markdown


def _report_text(page: str) -> str:
    """Visible text of the report, one block per line, with times and latencies normalized."""
    page = re.sub(r"(?s)<(style|script)[^>]*>.*?</\1>", "", page)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", page))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out = "\n".join(line for line in lines if line) + "\n"
    out = re.sub(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}(:\d{2})? UTC", "<TIME>", out)
    out = re.sub(r"(?:< )?\b\d+\.\d+ s\b", "<SECONDS>", out)
    return out


def _markdown(text: str) -> str:
    """The Markdown export with its times normalized."""
    return re.sub(r"\d{1,2} \w+ \d{4}, \d{2}:\d{2}(:\d{2})? UTC", "<TIME>", re.sub(r"(?:< )?\b\d+\.\d+ s\b", "<SECONDS>", text))


def test_recorded_answers_give_golden_merge_and_report(tmp_path: Path) -> None:
    merge_text, report_html, report_md = run_recorded_job_exports(tmp_path)
    report_text = _report_text(report_html)
    markdown = _markdown(report_md)
    if UPDATE:
        (HERE / "merge_result.json").write_text(merge_text)
        (HERE / "report.txt").write_text(report_text)
        (HERE / "report.md").write_text(markdown)
    assert merge_text == (HERE / "merge_result.json").read_text(), "merge result changed (MKA_UPDATE_GOLDEN=1 to accept)"
    assert report_text == (HERE / "report.txt").read_text(), "report text changed (MKA_UPDATE_GOLDEN=1 to accept)"
    assert markdown == (HERE / "report.md").read_text(), "Markdown export changed (MKA_UPDATE_GOLDEN=1 to accept)"
    assert "Question 3: Which claims resonate with this audience?" in markdown
    # The planted PII of the example brief never reaches the report.
    assert "Maria Keller" not in report_text and "maria.keller@example.com" not in report_text
    # Figures read the way a person writes them: no data-key spelling, no grouped years.
    keys = re.findall(r"(?<![/\w])[a-z0-9]+_[a-z0-9_]+\b(?![?\w])", report_text)  # tool paths in URIs aside
    assert not keys, keys
    assert "2,024" not in report_text and "EUR million" not in report_text
    assert "EUR 1.48 bn" in report_text and "6.4 %" in report_text


def _words(pdf: Path) -> list[tuple[int, float, float, str]]:
    """Every word of the PDF with its page (from 1) and top-left corner in points (`pdftotext -bbox`)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    words, page = [], 0
    for line in out.splitlines():
        if "<page " in line:
            page += 1
        elif m := re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', line):
            words.append((page, float(m.group(1)), float(m.group(2)), html.unescape(m.group(3))))
    return words


def _find(words: list[tuple[int, float, float, str]], phrase: str) -> tuple[int, float, float]:
    """Page and position of the first occurrence of a phrase (consecutive words)."""
    parts = phrase.split()
    for i in range(len(words) - len(parts) + 1):
        if [w[3] for w in words[i:i + len(parts)]] == parts:
            return words[i][:3]
    raise AssertionError(f"{phrase!r} not in the PDF")


def test_the_demo_pdf_answers_the_brief_once_per_claim_with_charts(tmp_path: Path) -> None:
    """Done-when of the report issue, on the PDF a person opens (pdftotext and pdftoppm, poppler)."""
    from actors.report import render_pdf

    merge_text, report_html = run_recorded_job(tmp_path)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(report_html))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    brief = yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text())
    # Banner, then the executive summary, then one section per brief question, verbatim and in order.
    marks = [flat.index("All 3 providers answered"), flat.index("Executive summary")]
    marks += [flat.index(question) for question in brief["questions"]]
    assert marks == sorted(marks)
    for name in [*brief["competitors"], "Germany (DE)", "France (FR)", "Netherlands (NL)"]:
        assert name in flat, name
    assert "No data collected on Minor Figures." in flat
    assert "<LOCATION_" not in flat and "Maria Keller" not in flat
    assert not re.search(r"\b(growth pct|share_pct|value_eur_m|price_eur|share pct)\b", flat)
    # Each merged claim is printed in full at most once.
    for claim in json.loads(merge_text)["claims"]:
        assert flat.count(" ".join(claim["text"].split())) <= 1, claim["text"]
    # Two charts, each under its caption: the region below the caption is not blank.
    words = _words(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    for caption in ("Market size and growth by market", "Competitor share and price by market"):
        page, _, top = _find(words, caption)
        ink = _chart_ink(pages[page - 1], top)
        assert ink > 0.03, (caption, ink)  # the chart's bars, not white paper or a line of text


def _chart_ink(png: Path, top: float) -> float:
    """Share of the pixels below a caption (at `top` points) that have a bar colour of the charts."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    scale = image.height / 842  # A4 in points
    region = image.crop((0, int((top + 14) * scale), image.width, int((top + 110) * scale)))
    bars = ((0x12, 0x35, 0x5B), (0x4F, 0x8F, 0xC0))
    hits = sum(1 for px in region.getdata() if any(sum(abs(a - b) for a, b in zip(px, bar)) < 60 for bar in bars))
    return hits / (region.width * region.height)
