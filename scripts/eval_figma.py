"""Evaluate the Figma export on a split of templates and text-fit cases: python scripts/eval_figma.py --set tune|outside.

Templates (tests/data/figma/<set>/template-*.json with expected.json): how many of the fields a
designer meant are recognised, how many deliberate mistakes are flagged (and valid fields wrongly
flagged), and, filling each template in an in-process job of the bundled Figma brief (stub LLMs,
the bundled market data), how many recognised fields got a value. Every template is also checked
against Figma's official REST schema.

Text fit (fit.json): the plan's estimate (fits / overflows, lines needed) against a reference
measurement with real font metrics: greedy wrapping with the glyph advances of DejaVu Sans (Latin)
or Noto Sans CJK JP (CJK) at the case's size and letter spacing. The reference is one real font;
Figma's default (Inter) is narrower than DejaVu Sans, so it is a proxy, not Figma's own layout.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.figma.fields import parse_field  # noqa: E402
from actors.figma.plan import text_capacity, text_lines  # noqa: E402
from actors.figma.template import scan_template, template_name, template_roots, walk  # noqa: E402
from actors.figma.store import template_id_of  # noqa: E402

CJK = ("ja", "zh", "ko")
FONTS = {"latin": "DejaVuSans.ttf", "cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"}


def _canonical(name: str) -> str:
    spec = parse_field(name)
    return f"#{spec.name}" if spec else name.strip()


def _font(language: str, size: float) -> Any:
    from matplotlib import font_manager
    from PIL import ImageFont

    path = FONTS["cjk"] if language in CJK else font_manager.findfont("DejaVu Sans")
    return ImageFont.truetype(path, size=max(1, round(size)))


def reference_lines(text: str, width: float, size: float, spacing: float, language: str) -> int:
    """Lines `text` takes with real glyph advances: greedy at spaces, inside a word only when it must."""
    font = _font(language, size)

    def advance(chunk: str) -> float:
        return float(font.getlength(chunk)) + spacing * len(chunk)

    total = 0
    for paragraph in text.split("\n"):
        lines, line = 1, ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if advance(candidate) <= width or not line and advance(word) <= width:
                line = candidate
                continue
            if line:
                lines += 1
            line = ""
            while advance(word) > width and len(word) > 1:
                cut = 1
                while cut < len(word) and advance(word[:cut + 1]) <= width:
                    cut += 1
                word = word[cut:]
                lines += 1
            line = word
        total += lines
    return total


def evaluate_fit(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Agreement of the fit estimate with the reference measurement."""
    agree = overflow_ref = overflow_caught = false_alarms = 0
    errors = []
    for case in cases:
        node = {"absoluteBoundingBox": {"x": 0, "y": 0, "width": case["width"], "height": case["height"]},
                "style": {"fontSize": case["font_size"], "lineHeightPx": case["line_height"],
                          "letterSpacing": case.get("letter_spacing", 0.0), "textAutoResize": "NONE"}}
        fits, _limit = text_capacity(node, case["text"])
        rows = max(1, int((case["height"] + 0.5) // case["line_height"]))
        ref = reference_lines(case["text"], case["width"], case["font_size"], case.get("letter_spacing", 0.0),
                              case["language"])
        ref_fits = ref <= rows
        est = text_lines(case["text"], case["width"], case["font_size"], case.get("letter_spacing", 0.0))
        errors.append(abs(est - ref))
        agree += fits == ref_fits
        if not ref_fits:
            overflow_ref += 1
            overflow_caught += not fits
        elif not fits:
            false_alarms += 1
    n = len(cases)
    return {"cases": n, "agreement": round(agree / n, 3), "overflows": overflow_ref,
            "overflow_recall": round(overflow_caught / overflow_ref, 3) if overflow_ref else None,
            "false_alarms": false_alarms, "line_mae": round(sum(errors) / n, 3),
            "lines_exact": round(sum(e == 0 for e in errors) / n, 3)}


def _fill(path: Path) -> dict[str, Any]:
    """Fill the template in an in-process job of the bundled Figma brief; the base plan."""
    from tests.inprocess import run_in_process

    doc = json.loads(path.read_text(encoding="utf-8"))
    brief = yaml.safe_load((ROOT / "examples" / "brief-figma.yaml").read_text(encoding="utf-8"))
    brief.update(outputs=["html", "figma"], figma_template=template_id_of(template_name(doc)), locales=None)
    with tempfile.TemporaryDirectory() as tmp:
        done = run_in_process(Path(tmp), brief, templates=[path])
        [row] = [a for a in done.artifacts if a.kind == "figma_plan" and a.locale is None]
        return json.loads(done.objects.get(row.key))


def evaluate_templates(folder: Path, fill: bool) -> dict[str, Any]:
    """Field recognition, mistake detection and (with `fill`) fields given a value, per template and in all."""
    from tests.figma.spec import spec_errors

    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    rows, totals = [], {"valid": 0, "recognised": 0, "invalid": 0, "flagged": 0, "false_alarms": 0, "filled": 0,
                        "no_value": 0}
    for name, want in sorted(expected.items()):
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        schema = len(spec_errors("GetFileResponse", doc))
        scan = scan_template(template_roots(doc))
        names = set(scan.names())
        unknown = {n for n, _ in scan.unknown}
        valid = {_canonical(n) for n in want["fields"]}
        invalid = {re.sub(r" \(.*\)$", "", n) for n in want["invalid"]}
        row = {"template": name, "schema_errors": schema, "valid": len(valid), "recognised": len(valid & names),
               "invalid": len(invalid), "flagged": len(invalid & unknown),
               "false_alarms": len((unknown - invalid) & valid), "missed": sorted(valid - names),
               "not_flagged": sorted(invalid - unknown)}
        if fill:
            plan = _fill(folder / name)
            ids = {n["id"] for root in template_roots(doc) for n in walk(root)}
            changed = {r["node_id"] for r in plan["replacements"]} | {
                c["node_id"] for r in plan["replacements"] if r["kind"] == "clone" for item in r["value"]["items"]
                for c in item}
            row["plan_ids_in_template"] = changed <= ids
            row["no_value"] = plan["missing_fields"]
            row["filled"] = len((valid & names) - set(plan["missing_fields"]))
            row["overflow"] = len(plan["overflow"])
        rows.append(row)
        for key in totals:
            totals[key] += row.get(key, 0) if not isinstance(row.get(key), list) else len(row[key])
    summary = {"recognition": round(totals["recognised"] / totals["valid"], 3),
               "mistakes_flagged": round(totals["flagged"] / totals["invalid"], 3) if totals["invalid"] else None,
               "false_alarms": totals["false_alarms"]}
    if fill:
        summary["fields_with_a_value"] = f"{totals['filled']}/{totals['valid']}"
    return {"templates": rows, "summary": summary}


def main() -> None:
    """Print the figures of one split as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["tune", "outside"], default="outside")
    parser.add_argument("--no-fill", action="store_true", help="Skip the in-process jobs (recognition only).")
    args = parser.parse_args()
    folder = ROOT / "tests" / "data" / "figma" / args.set
    started = time.monotonic()
    out = {"set": args.set, **evaluate_templates(folder, fill=not args.no_fill),
           "fit": evaluate_fit(json.loads((folder / "fit.json").read_text(encoding="utf-8")))}
    out["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
