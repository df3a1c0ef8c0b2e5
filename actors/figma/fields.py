"""The field grammar of Figma templates: which layer names (`#title`, `#market.DE.size`, `#claims[]`) mean what.

A layer whose name starts with `#` is a field. Top-level fields:

    #title  #product  #audience  #date  #markets  #quorum  #providers  #disagreements
    #summary.N                       the N-th summary point (1-based)
    #question.N                      the N-th question of the brief
    #question.N.finding.M            the M-th claim answering question N (any kind, report order)
    #question.N.insight.M            ... only insights (also .recommendation.M)
    #market.CC.name|size|growth|year|leader|missing
    #chart.NAME                      an image fill with the report's chart (market_size, competitors)
    #banner                          visibility and colour by quorum state; #banner.text its words

Repeated groups: a layer named `#claims[]`, `#summary[]`, `#disagreements[]` or `#markets[]`
whose first child is the prototype of one item, cloned per item. Inside the prototype, item
fields name the item's parts: `#claim.label|text|agreement|grounding|providers|kind|question`
(claims and summary), `#disagreement.topic|positions`, `#market.code|name|size|growth|year|leader|missing`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "FieldSpec", "ITEM_FIELDS", "REPEATS", "parse_field", "parse_item_field", "suggest", "fits_node",
]

Kind = Literal["text", "image", "banner", "repeat"]

REPEATS: dict[str, str] = {"claims": "claim", "summary": "claim", "disagreements": "disagreement",
                           "markets": "market"}
"""Repeated group -> the prefix of its item fields."""

ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "claim": ("label", "text", "agreement", "grounding", "providers", "kind", "question"),
    "disagreement": ("topic", "positions"),
    "market": ("code", "name", "size", "growth", "year", "leader", "missing"),
}
MARKET_PARTS = ("name", "size", "growth", "year", "leader", "missing")
PLAIN = ("title", "product", "audience", "date", "markets", "quorum", "providers", "disagreements", "banner.text")
CHARTS = ("market_size", "competitors")
CLAIM_KINDS = ("finding", "insight", "recommendation")
_NUMBER = r"([1-9][0-9]{0,2})"


@dataclass(frozen=True)
class FieldSpec:
    """A parsed field: its canonical name (no '#'), what it fills, and its path parts."""

    name: str
    kind: Kind
    parts: tuple[str, ...]


def _canonical(name: str) -> str | None:
    text = name.strip()
    if not text.startswith("#"):
        return None
    return text[1:].strip()


def parse_field(layer_name: str) -> FieldSpec | None:
    """The field a layer name declares, or None when it is no field of the grammar (names without '#' included)."""
    text = _canonical(layer_name)
    if text is None:
        return None
    if text.endswith("[]"):
        base = text[:-2]
        return FieldSpec(text, "repeat", (base,)) if base in REPEATS else None
    if text in PLAIN:
        return FieldSpec(text, "text", (text,))
    if text == "banner":
        return FieldSpec(text, "banner", ("banner",))
    if m := re.fullmatch(rf"summary\.{_NUMBER}", text):
        return FieldSpec(text, "text", ("summary", m.group(1)))
    if m := re.fullmatch(rf"question\.{_NUMBER}", text):
        return FieldSpec(text, "text", ("question", m.group(1)))
    if m := re.fullmatch(rf"question\.{_NUMBER}\.({'|'.join(CLAIM_KINDS)})\.{_NUMBER}", text):
        return FieldSpec(text, "text", ("question", m.group(1), m.group(2), m.group(3)))
    if m := re.fullmatch(rf"market\.([A-Za-z]{{2}})\.({'|'.join(MARKET_PARTS)})", text):
        code = m.group(1).upper()
        return FieldSpec(f"market.{code}.{m.group(2)}", "text", ("market", code, m.group(2)))
    if m := re.fullmatch(r"chart\.([a-z0-9_-]+)", text):
        chart = m.group(1).replace("-", "_")
        return FieldSpec(f"chart.{chart}", "image", ("chart", chart)) if chart in CHARTS else None
    return None


def parse_item_field(layer_name: str, prefix: str) -> FieldSpec | None:
    """An item field inside a repeated group's prototype (`#claim.text` for prefix `claim`), or None."""
    text = _canonical(layer_name)
    if text is None:
        return None
    head, _, part = text.partition(".")
    if head != prefix or part not in ITEM_FIELDS[prefix]:
        return None
    return FieldSpec(text, "text", (prefix, part))


def fits_node(spec: FieldSpec, node_type: str) -> bool:
    """Whether a field can be applied to a layer of this type (text needs TEXT; an image fill needs a shape)."""
    if spec.kind == "text":
        return node_type == "TEXT"
    if spec.kind == "image":
        return node_type in ("RECTANGLE", "ELLIPSE", "FRAME", "COMPONENT", "INSTANCE", "POLYGON", "STAR", "VECTOR")
    if spec.kind == "repeat":  # not an INSTANCE: Figma refuses new children inside instances
        return node_type in ("FRAME", "GROUP", "COMPONENT", "SECTION")
    return True  # a banner can be any layer: visibility always, colour where it has fills


def suggest(layer_name: str) -> str:
    """A hint for a layer name that is no field: the closest field names of the grammar."""
    import difflib

    text = _canonical(layer_name) or layer_name
    known = [*PLAIN, "banner", "summary.1", "question.1", "question.1.finding.1", "market.DE.size",
             *(f"chart.{c}" for c in CHARTS), *(f"{r}[]" for r in REPEATS),
             *(f"{p}.{f}" for p, fs in ITEM_FIELDS.items() for f in fs)]
    close = difflib.get_close_matches(text, known, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join('#' + c for c in close)}?)" if close else ""
