"""Write the bundled Figma template (examples/figma/report-template.json) in Figma's REST file format.

Run `python scripts/make_figma_template.py` after changing the layout; a test checks the file against
Figma's official REST API schema (@figma/rest-api-spec) and that it is what this script writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "examples" / "figma" / "report-template.json"
WIDTH = 800.0
INK = {"r": 0.114, "g": 0.153, "b": 0.2, "a": 1.0}
MUTED = {"r": 0.42, "g": 0.463, "b": 0.518, "a": 1.0}
ACCENT = {"r": 0.071, "g": 0.208, "b": 0.357, "a": 1.0}
PAPER = {"r": 1.0, "g": 1.0, "b": 1.0, "a": 1.0}
PANEL = {"r": 0.953, "g": 0.961, "b": 0.973, "a": 1.0}

_ids = iter(range(2, 10_000))


def _id() -> str:
    return f"1:{next(_ids)}"


def _solid(colour: dict[str, float]) -> dict[str, Any]:
    return {"type": "SOLID", "blendMode": "NORMAL", "color": colour}


def _box(x: float, y: float, w: float, h: float) -> dict[str, Any]:
    box = {"x": x, "y": y, "width": w, "height": h}
    return {"absoluteBoundingBox": box, "absoluteRenderBounds": dict(box)}


def _base(name: str, kind: str, x: float, y: float, w: float, h: float) -> dict[str, Any]:
    return {"id": _id(), "name": name, "type": kind, "scrollBehavior": "SCROLLS", "blendMode": "PASS_THROUGH",
            "effects": [], **_box(x, y, w, h)}


def text(name: str, sample: str, x: float, y: float, w: float, h: float, *, size: float = 12, weight: int = 400,
         colour: dict[str, float] = INK, grow: bool = False) -> dict[str, Any]:
    """A TEXT layer in Inter; `grow` makes its box grow with its text (auto-resize HEIGHT)."""
    node = _base(name, "TEXT", x, y, w, h)
    node.update({
        "fills": [_solid(colour)], "characters": sample,
        "style": {"fontFamily": "Inter", "fontPostScriptName": None, "fontStyle": "Bold" if weight >= 700 else "Regular",
                  "fontWeight": weight, "fontSize": size, "textAlignHorizontal": "LEFT", "textAlignVertical": "TOP",
                  "letterSpacing": 0, "lineHeightPx": round(size * 1.35, 2), "lineHeightUnit": "PIXELS",
                  "textAutoResize": "HEIGHT" if grow else "NONE"},
        "characterStyleOverrides": [], "styleOverrideTable": {}, "lineTypes": ["NONE"], "lineIndentations": [0],
    })
    return node


def frame(name: str, x: float, y: float, w: float, h: float, children: list[dict[str, Any]], *,
          fill: dict[str, float] | None = None, layout: str | None = None, spacing: float = 0) -> dict[str, Any]:
    """A FRAME (clips its content); `layout` VERTICAL makes it an auto-layout stack."""
    node = _base(name, "FRAME", x, y, w, h)
    node.update({"fills": [_solid(fill)] if fill else [], "clipsContent": True, "children": children})
    if layout:
        node.update({"layoutMode": layout, "itemSpacing": spacing, "primaryAxisSizingMode": "AUTO",
                     "counterAxisSizingMode": "FIXED"})
    return node


def rectangle(name: str, x: float, y: float, w: float, h: float, colour: dict[str, float]) -> dict[str, Any]:
    """A RECTANGLE with a solid fill (an image fill replaces it for charts)."""
    node = _base(name, "RECTANGLE", x, y, w, h)
    node.update({"fills": [_solid(colour)], "cornerRadius": 4})
    return node


def report_frame() -> dict[str, Any]:
    """The one-page report: banner, title, summary, two questions, markets, a chart, claims and disagreements."""
    m, inner = 40.0, WIDTH - 80.0
    kids: list[dict[str, Any]] = []
    kids.append(frame("#banner", m, 24, inner, 36, [
        text("#banner.text", "DEGRADED REPORT — 2 of 3 providers answered.", m + 12, 33, inner - 24, 18, size=12,
             weight=700, colour=PAPER)], fill={"r": 0.851, "g": 0.494, "b": 0.09, "a": 1.0}))
    kids.append(text("Kicker", "Marketing Assistant · Market research report", m, 76, inner, 16, size=10, colour=MUTED))
    kids.append(text("#title", "Report title", m, 94, inner, 40, size=28, weight=700, colour=ACCENT))
    kids.append(text("#date", "1 Dec 2026", m, 140, 200, 16, size=10, colour=MUTED))
    kids.append(text("#markets", "Germany (DE), France (FR)", m + 210, 140, inner - 210, 16, size=10, colour=MUTED))
    kids.append(text("#quorum", "All 3 providers answered (quorum: 2).", m, 160, inner, 16, size=10, colour=MUTED))
    kids.append(text("Summary heading", "Executive summary", m, 192, inner, 22, size=16, weight=700))
    for n in range(1, 4):
        kids.append(text(f"#summary.{n}", f"Summary point {n}", m, 220 + (n - 1) * 52, inner, 48, size=12))
    y = 384.0
    for q in (1, 2):
        kids.append(text(f"#question.{q}", f"Question {q}", m, y, inner, 36, size=13, weight=700))
        kids.append(text(f"#question.{q}.finding.1", "The first finding", m, y + 40, inner, 48, size=12))
        y += 100
    kids.append(text("Markets heading", "Markets at a glance", m, y, inner, 22, size=16, weight=700))
    col = inner / 3
    for n, code in enumerate(("DE", "FR", "NL")):
        x = m + n * col
        kids.append(frame(f"Market {code}", x, y + 30, col - 12, 84, [
            text(f"#market.{code}.name", code, x + 10, y + 38, col - 32, 18, size=11, weight=700),
            text(f"#market.{code}.size", "EUR 1.0 bn", x + 10, y + 60, col - 32, 24, size=18, weight=700,
                 colour=ACCENT),
            text(f"#market.{code}.growth", "+5 %", x + 10, y + 88, col - 32, 18, size=11, colour=MUTED),
        ], fill=PANEL))
    y += 130
    kids.append(rectangle("#chart.market_size", m, y, inner, 250, PANEL))
    y += 270
    kids.append(text("Disagreements heading", "Where the models disagree", m, y, inner, 22, size=16, weight=700))
    kids.append(text("#disagreements", "topic: openai 1.2 · gemini 1.5", m, y + 28, inner, 60, size=11, grow=True))
    kids.append(text("#providers", "openai ok · gemini ok · xai ok", m, y + 96, inner, 16, size=9, colour=MUTED))
    y += 130
    kids.append(text("Claims heading", "Claims", m, y, inner, 22, size=16, weight=700))
    item_y = y + 30
    prototype = frame("Claim", m, item_y, inner, 56, [
        text("#claim.label", "C1", m, item_y, 36, 18, size=11, weight=700, colour=ACCENT),
        text("#claim.text", "Claim text", m + 40, item_y, inner - 40, 36, size=11, grow=True),
        text("#claim.agreement", "unanimous", m + 40, item_y + 38, 160, 16, size=9, colour=MUTED),
        text("#claim.grounding", "supported", m + 200, item_y + 38, 160, 16, size=9, colour=MUTED),
    ])
    kids.append(frame("#claims[]", m, item_y, inner, 56, [prototype], layout="VERTICAL", spacing=10))
    y = item_y + 56 + 40  # the list grows downwards with its items; the page with it
    return frame("Report", 0, 0, WIDTH, y, kids, fill=PAPER)


def template() -> dict[str, Any]:
    """The whole file, as GET /v1/files/:key returns it (the same ids on every call)."""
    global _ids
    _ids = iter(range(2, 10_000))
    page = {"id": "0:1", "name": "Report", "type": "CANVAS", "scrollBehavior": "SCROLLS", "children": [report_frame()],
            "backgroundColor": {"r": 0.96, "g": 0.96, "b": 0.96, "a": 1.0}, "prototypeStartNodeID": None,
            "flowStartingPoints": [], "prototypeDevice": {"type": "NONE", "rotation": "NONE"}}
    return {
        "name": "Report template", "role": "owner", "lastModified": "2026-12-01T00:00:00Z", "editorType": "figma",
        "thumbnailUrl": "", "version": "1", "schemaVersion": 0, "components": {}, "componentSets": {}, "styles": {},
        "document": {"id": "0:0", "name": "Document", "type": "DOCUMENT", "scrollBehavior": "SCROLLS",
                     "children": [page]},
    }


def render() -> str:
    """The file's text, stable."""
    return json.dumps(template(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
