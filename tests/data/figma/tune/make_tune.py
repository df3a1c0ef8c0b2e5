"""The tuning split of the Figma evaluation, written by the code's author: the bundled template with three
designer mistakes added, and text-fit cases. Run `python3 make_tune.py` to rebuild."""

from __future__ import annotations

import copy
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLED = HERE.parents[3] / "examples" / "figma" / "report-template.json"


def template() -> tuple[dict, dict]:
    doc = json.loads(BUNDLED.read_text(encoding="utf-8"))
    frame = doc["document"]["children"][0]["children"][0]
    valid = sorted({n["name"] for n in _walk(frame) if n["name"].startswith("#")})
    mistakes = copy.deepcopy([n for n in frame["children"] if n["name"] == "#date"][0])
    misspelled = {**copy.deepcopy(mistakes), "id": "5:1", "name": "#sumary.2"}
    wrong_type = {**copy.deepcopy([n for n in frame["children"] if n["name"] == "#chart.market_size"][0]),
                  "id": "5:2", "name": "#title"}
    stray_item = {**copy.deepcopy(mistakes), "id": "5:3", "name": "#claim.text"}
    frame["children"] += [misspelled, wrong_type, stray_item]
    return doc, {"fields": valid, "invalid": ["#sumary.2", "#title (on a RECTANGLE)", "#claim.text (outside a group)"]}


def _walk(node: dict) -> list[dict]:
    return [node] + [n for c in node.get("children", []) for n in _walk(c)]


SENTENCES = [
    ("en", "Oat drinks lead plant-based milk in Germany with 54 % of volume."),
    ("en", "Launch in the Netherlands first: growth is highest there (8.3 % a year) and the shelf price of EUR 2.43 "
           "leaves room above Oatfield."),
    ("de", "Der Markt für pflanzliche Milchalternativen in Deutschland wächst um 6,4 % pro Jahr."),
    ("de", "Haferdrinkverpackungsgrößenempfehlung für Barista-Anwendungen"),
    ("fr", "La croissance en France (7,1 %) reste plus lente qu'aux Pays-Bas ; le soja domine toujours le volume."),
    ("ja", "ドイツの植物性ミルク市場は14.8億ユーロで、年率6.4%で成長している。"),
    ("zh", "荷兰市场增长最快，每年8.3%，建议首先在荷兰推出。"),
    ("en", "C12"),
]


def fit_cases() -> list[dict]:
    cases = []
    n = 0
    for language, text in SENTENCES:
        for width, size in ((120, 10), (240, 12), (360, 14), (600, 18), (900, 28)):
            for lines in (1, 2, 3):
                n += 1
                line = round(size * 1.35, 1)
                cases.append({"id": f"tune-{n:03d}-{language}", "text": text, "width": float(width),
                              "height": float(round(lines * line)), "font_size": size, "line_height": line,
                              "letter_spacing": 0.0, "language": language})
    return cases


if __name__ == "__main__":
    doc, expected = template()
    (HERE / "template-tune.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (HERE / "expected.json").write_text(json.dumps({"template-tune.json": expected}, indent=1) + "\n", encoding="utf-8")
    (HERE / "fit.json").write_text(json.dumps(fit_cases(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {HERE}")
