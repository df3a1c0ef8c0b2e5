"""Does the report answer the brief? The report issue's done-when checks, run on many briefs, with the stub providers.

    python scripts/eval_report.py [--set tune|test|test2|test3|all] [--no-pdf] [--json] [--verbose]

`tune` is the example brief (`examples/brief.yaml`), which the report was built against; `test` is
`tests/data/report/outside/briefs.yaml`, written by a helper from the brief schema only after the report
was built (its first score is in that folder's README; it then led to one PII fix, so it counts as tuned on);
`test2` (`briefs2.yaml`), written by another helper after that fix, scored unseen once, then led to a merge fix
and a number format change (tuned on); `test3` (`briefs3.yaml`), written after those, was never tuned on. Each brief runs in-process (real PII, MCP market-data server, stub LLMs,
merge, report); the PDF's text (pdftotext) is checked, or the HTML's visible text with `--no-pdf`.
Per set, the share of briefs (or of items) where:

- `completed`: the job completed;
- `questions_with_section`: a brief question appears verbatim as a section heading, in order;
- `questions_answered`: a question's section holds at least one unflagged claim;
- `markets_named`, `competitors_named`: each market (its name) and each competitor the brief names appears;
- `claims_once`: a merged claim's text appears in full at most once;
- `no_raw_keys`: no data-key spelling (`share_pct`, `growth pct`) and no `<LOCATION_n>` in the text;
- `summary_3_to_6`: the executive summary has 3-6 claims (when the merge has at least 3 supported ones);
- `charts_when_data`: a brief whose markets have market figures gets the market chart (and none is empty).
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.report import render_pdf  # noqa: E402
from schemas import parse_brief  # noqa: E402
from tests.inprocess import run_in_process  # noqa: E402

OUTSIDE = ROOT / "tests" / "data" / "report" / "outside"
SETS = {"tune": ROOT / "examples" / "brief.yaml", "test": OUTSIDE / "briefs.yaml", "test2": OUTSIDE / "briefs2.yaml",
        "test3": OUTSIDE / "briefs3.yaml"}
_RAW_KEY = re.compile(r"(?<![/\w?=&])[a-z0-9]+_[a-z0-9_]+\b(?![?=\w])|\b(?:growth|share|price|value) (?:pct|eur)\b")


def _briefs(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(SETS[name].read_text())
    return data if isinstance(data, list) else [data]


def _visible(page: str) -> str:
    page = re.sub(r"(?s)<(style|script|svg)[^>]*>.*?</\1>", " ", page)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _check(brief: dict[str, Any], pdf: bool) -> dict[str, Any]:
    parsed = parse_brief(brief)
    with tempfile.TemporaryDirectory() as tmp:
        done = run_in_process(Path(tmp), brief)
        if done.job.state.value != "completed" or done.html is None:
            return {"project": parsed.project, "completed": False, "error": str(done.job.error)}
        if pdf:
            path = Path(tmp) / "report.pdf"
            path.write_bytes(render_pdf(done.html))
            text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                           check=True).stdout.split())
        else:
            text = _visible(done.html)
        charts = [a for a in done.artifacts if a.kind == "chart"]
    merge = done.merge or {"claims": []}
    headings = re.findall(r'<h2 class="question-heading">.*?<span class="qtext">(.*?)</span>', done.html, re.S)
    headings = [html_lib.unescape(" ".join(h.split())) for h in headings]
    sections = re.findall(r'(?s)<section class="question" id="q(\d+)">(.*?)</section>', done.html)
    answered = {int(n) for n, body in sections if 'class="claim kind-' in body or 'class="claim in-summary"' in body}
    summary = re.search(r'(?s)<section id="summary">(.*?)</section>', done.html)
    in_summary = len(re.findall(r'<li id="c\d+" class="claim', summary.group(1))) if summary else 0
    supported = sum(1 for c in merge["claims"] if c["grounding"] == "supported" and not c["hallucination"])
    has_size = any(f'country={m}' in e for m in parsed.markets
                   for e in re.findall(r"mcp://market-data/market_size\?[^\s<\"]+", done.html)) and \
        "market value" in text
    names = {m: (re.search(rf"([A-Z][\w .'-]+) \({m}\)", text) is not None) for m in parsed.markets}
    return {
        "project": parsed.project,
        "completed": True,
        "questions": len(parsed.questions),
        "questions_with_section": sum(1 for q in parsed.questions if q in headings),
        "questions_in_order": headings[:len(parsed.questions)] == list(parsed.questions),
        "questions_answered": len(answered & set(range(1, len(parsed.questions) + 1))),
        "markets": len(parsed.markets),
        "markets_named": sum(names.values()),
        "competitors": len(parsed.competitors),
        "competitors_named": sum(1 for c in parsed.competitors if c in text),
        "claims": len(merge["claims"]),
        "claims_once": sum(1 for c in merge["claims"] if text.count(" ".join(c["text"].split())) <= 1),
        "raw_keys": sorted({m.group(0) for m in _RAW_KEY.finditer(text.replace(parsed.project, " "))}),  # ids aside
        "location_placeholders": text.count("<LOCATION_"),
        "summary": in_summary,
        "summary_ok": 3 <= in_summary <= 6 if supported >= 3 else in_summary <= 6,
        "charts": len(charts),
        "charts_ok": (any(c.key.endswith("chart-market-size.svg") for c in charts) if has_size else True)
        and all(c.size > 500 for c in charts),
    }


def _score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if r["completed"]]

    def share(part: str, whole: str) -> float:
        total = sum(r[whole] for r in done)
        return round(sum(r[part] for r in done) / total, 3) if total else 1.0

    return {
        "briefs": len(rows),
        "completed": round(len(done) / len(rows), 3) if rows else 0.0,
        "questions_with_section": share("questions_with_section", "questions"),
        "questions_in_order": round(sum(r["questions_in_order"] for r in done) / len(done), 3) if done else 0.0,
        "questions_answered": share("questions_answered", "questions"),
        "markets_named": share("markets_named", "markets"),
        "competitors_named": share("competitors_named", "competitors"),
        "claims_once": share("claims_once", "claims"),
        "no_raw_keys": round(sum(not r["raw_keys"] and not r["location_placeholders"] for r in done) / len(done), 3)
        if done else 0.0,
        "summary_3_to_6": round(sum(r["summary_ok"] for r in done) / len(done), 3) if done else 0.0,
        "charts_when_data": round(sum(r["charts_ok"] for r in done) / len(done), 3) if done else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the scores per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--no-pdf", action="store_true", help="check the HTML's visible text instead of the PDF")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print every brief's row")
    args = parser.parse_args(argv)
    names = list(SETS) if args.set == "all" else [args.set]
    out = {}
    for name in names:
        rows = [_check(brief, not args.no_pdf) for brief in _briefs(name)]
        out[name] = {"scores": _score(rows), **({"rows": rows} if args.verbose else {})}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for name, result in out.items():
            print(f"[{name}] " + ", ".join(f"{k} {v}" for k, v in result["scores"].items()))
            for row in result.get("rows", []):
                print("   ", json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
