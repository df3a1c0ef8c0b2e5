"""The node replacement engine: (template, report content, locale) -> a fill plan, with text fit estimated (pure).

A field the report has no value for (`#summary.7` with five points, a market the brief does not
name, a chart without data) is listed in `missing_fields`, and its layer is hidden so that the
designer's sample text never passes for a finding. Text is never cut: a text that does not fit
its box by estimate is listed in `overflow` and set in full.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from actors.figma.content import BANNER_COLOURS, Content
from actors.figma.template import FieldUse, Scan
from schemas.figma import FillPlan, Overflow, Replacement

__all__ = ["fill_plan", "text_capacity", "text_lines", "text_style", "wrap"]

DEFAULT_GAP = 8.0  # px between cloned items when the group has no auto-layout spacing


_LATIN_SCALE = 1.08
"""Calibrated on the tuning split against DejaVu Sans (wider than Figma's default Inter): the estimate errs on the
wide side, so a text that may not fit is warned about rather than missed."""


def _char_em(ch: str) -> float:
    """A character's advance in em, roughly, for a proportional sans serif (CJK full width)."""
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1.0
    if ch == " ":
        base = 0.28
    elif ch in "il.,:;'|!ìíîï":
        base = 0.26
    elif ch in "mwMW@%":
        base = 0.85
    elif ch.isupper() or ch.isdigit():
        base = 0.62
    else:
        base = 0.52
    return base * _LATIN_SCALE


def text_style(node: dict[str, Any]) -> tuple[float, float, float]:
    """Font size, line height and letter spacing (px) of a text layer."""
    style = node.get("style") or {}
    size = float(style.get("fontSize") or 12.0)
    line = float(style.get("lineHeightPx") or size * 1.2)
    return size, max(line, 1.0), float(style.get("letterSpacing") or 0.0)


def wrap(text: str, width_px: float, font_px: float, spacing_px: float = 0.0) -> list[str]:
    """`text` broken into lines of a box `width_px` wide: at spaces, and inside words too long for a line (one pass
    over the text; a width of 0 or less breaks only at newlines)."""
    def advance(ch: str) -> float:
        return _char_em(ch) * font_px + spacing_px

    space = advance(" ")
    out: list[str] = []
    for paragraph in text.split("\n"):
        if width_px <= 0:
            out.append(paragraph)
            continue
        line, used = "", 0.0
        for word in paragraph.split(" "):
            width = sum(advance(c) for c in word)
            if not line and width <= width_px:
                line, used = word, width
                continue
            if line and used + space + width <= width_px:
                line, used = f"{line} {word}", used + space + width
                continue
            if line:
                out.append(line)
            line, used = word, width
            if width > width_px:  # a word wider than the line breaks where it must
                line, used = "", 0.0
                for ch in word:
                    step = advance(ch)
                    if line and used + step > width_px:
                        out.append(line)
                        line, used = "", 0.0
                    line, used = line + ch, used + step
        out.append(line)
    return out


def text_lines(text: str, width_px: float, font_px: float, spacing_px: float = 0.0) -> int:
    """Lines `text` takes in a box `width_px` wide."""
    return len(wrap(text, width_px, font_px, spacing_px))


def text_capacity(node: dict[str, Any], text: str) -> tuple[bool, int]:
    """Whether `text` fits the text layer, and the characters the box holds by estimate for text like it.

    A box that grows with its text (auto-resize HEIGHT or WIDTH_AND_HEIGHT) fits, unless it truncates after
    `maxLines` (truncation ENDING): Figma would cut the text with an ellipsis, so that is checked too.
    """
    style = node.get("style") or {}
    box = node.get("absoluteBoundingBox") or {}
    if not box:
        return True, len(text)
    auto = style.get("textAutoResize")
    max_lines = style["maxLines"] if isinstance(style.get("maxLines"), int) and style["maxLines"] > 0 else None
    truncates = style.get("textTruncation") == "ENDING" or auto == "TRUNCATE"
    grows = auto in ("HEIGHT", "WIDTH_AND_HEIGHT")
    if grows and not (truncates and max_lines):
        return True, len(text)
    size, line, spacing = text_style(node)
    width = 0.0 if auto == "WIDTH_AND_HEIGHT" else float(box.get("width") or 0)  # a growing width wraps nowhere
    if grows:
        rows = int(max_lines or 1)
    else:
        rows = max(1, int((float(box.get("height") or 0) + 0.5) // line))
        rows = min(rows, max_lines) if max_lines else rows
    needed = text_lines(text, width, size, spacing)
    sample = text or "x"
    per_char = sum(_char_em(c) * size + spacing for c in sample) / len(sample)
    limit = int(rows * width / per_char) if per_char > 0 and width > 0 else len(text)
    return needed <= rows, limit


def _text(use_node: dict[str, Any], field: str, value: str, overflow: list[Overflow],
          label: str | None = None) -> Replacement:
    fits, limit = text_capacity(use_node, value)
    if not fits:
        overflow.append(Overflow(node_id=use_node["id"], field=label or field, chars=len(value),
                                 limit=min(limit, max(len(value) - 1, 0))))
    return _change(use_node, field, "text", value)


def _change(node: dict[str, Any], field: str, kind: str, value: Any) -> Replacement:
    return Replacement(node_id=node["id"], node_name=str(node.get("name", "")).strip(), field=field, kind=kind,
                       value=value)  # type: ignore[arg-type]


def _offset(group: dict[str, Any], prototype: dict[str, Any]) -> dict[str, float]:
    """Where the next copy goes relative to the one before: below it, or beside it in a horizontal auto-layout."""
    box = prototype.get("absoluteBoundingBox") or {}
    spacing = group.get("itemSpacing")
    gap = float(spacing) if isinstance(spacing, (int, float)) else DEFAULT_GAP
    if group.get("layoutMode") == "HORIZONTAL":
        return {"x": float(box.get("width") or 0) + gap, "y": 0.0}
    return {"x": 0.0, "y": float(box.get("height") or 0) + gap}


def _clone(use: FieldUse, items: list[dict[str, str]], overflow: list[Overflow]) -> Replacement:
    assert use.prototype is not None
    planned = []
    for n, item in enumerate(items, start=1):
        planned.append([
            _text(node, spec.name, item.get(spec.name, ""), overflow, label=f"{use.spec.name[:-2]}[{n}].{spec.name}")
            .model_dump() for spec, node in use.items
        ])
    return _change(use.node, use.spec.name, "clone", {"prototype": use.prototype["id"], "count": len(items),
                                                      "offset": _offset(use.node, use.prototype), "items": planned})


def fill_plan(scan: Scan, content: Content, *, template_id: str, version: int, job_id: str) -> FillPlan:
    """The fill plan of one report (in `content.locale`) for a scanned template."""
    replacements: list[Replacement] = []
    missing: list[str] = []
    overflow: list[Overflow] = []
    for use in scan.fields:
        spec, node = use.spec, use.node
        name = f"#{spec.name}"
        if spec.kind in ("text", "image"):
            value = (content.texts if spec.kind == "text" else content.images).get(spec.name)
            if value is None:
                missing.append(name)
                replacements.append(_change(node, spec.name, "visibility", False))
            elif spec.kind == "text":
                replacements.append(_text(node, spec.name, value, overflow))
            else:
                replacements.append(_change(node, spec.name, "image", value))
        elif spec.kind == "banner":
            replacements.append(_change(node, spec.name, "visibility", content.banner_state != "ok"))
            if "fills" in node:  # groups have no fills of their own
                replacements.append(_change(node, spec.name, "fill", dict(BANNER_COLOURS[content.banner_state])))
        else:  # a repeated group
            items = content.items.get(spec.parts[0], [])
            if not items:
                missing.append(name)
            replacements.append(_clone(use, items, overflow))
    return FillPlan(
        template_id=template_id, version=version, job_id=job_id, locale=content.locale, replacements=replacements,
        missing_fields=list(dict.fromkeys(missing)), unknown_fields=list(dict.fromkeys(n for n, _ in scan.unknown)),
        overflow=overflow,
    )
