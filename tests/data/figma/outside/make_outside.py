#!/usr/bin/env python3
"""Generate the outside evaluation data set for the Figma template export.

Written by an outside helper from docs/figma.md only, without seeing the implementation.

Writes, next to this script:
  template-a.json  slide deck page, 1920x1080 (two pages: "Slides" with the fields, "Archive" with a draft)
  template-b.json  portrait one-pager, 1240x1754, auto-layout repeated groups #summary[] and #markets[]
  template-c.json  compact 4:5 social card, 1080x1350, deeply nested groups, #claims[] and #disagreements[]
  expected.json    per template: the layer names meant as valid fields and the deliberately invalid ones
  fit.json         text-fit cases (unlabelled) for a fixed-size text box estimate

Then validates the three templates against the official Figma REST API schema
(figma-plugin/node_modules/@figma/rest-api-spec/openapi/openapi.yaml, GetFileResponse), with each
oneOf+discriminator rewritten as if/then per mapping entry, plus a strict check that every node,
style, paint and effect property is one the schema declares (the spec itself allows extra keys).

Usage: python3 make_outside.py [--no-validate]
Deterministic: no randomness, no clock, no font files needed.
"""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEC = HERE.parents[3] / "figma-plugin" / "node_modules" / "@figma" / "rest-api-spec" / "openapi" / "openapi.yaml"

# --------------------------------------------------------------------------------------------
# Node builders. Coordinates given to builders are relative to the parent's origin; for a GROUP,
# the builder's (x, y) is an authoring offset for its children (Figma groups have no origin of
# their own: their box is the union of their children). finalize() makes everything absolute.
# --------------------------------------------------------------------------------------------


def hex_rgba(h: str, a: float = 1.0) -> dict:
    h = h.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return {"r": round(r, 6), "g": round(g, 6), "b": round(b, 6), "a": a}


def solid(h: str, a: float = 1.0, opacity: float | None = None) -> dict:
    p = {"blendMode": "NORMAL", "type": "SOLID", "color": hex_rgba(h, a)}
    if opacity is not None:
        p["opacity"] = opacity
    return p


def shadow(y: float = 8, radius: float = 24, a: float = 0.12) -> dict:
    return {"type": "DROP_SHADOW", "visible": True, "color": {"r": 0, "g": 0, "b": 0, "a": a},
            "blendMode": "NORMAL", "offset": {"x": 0, "y": y}, "radius": radius, "spread": 0,
            "showShadowBehindNode": False}


class Ids:
    def __init__(self, page: int, start: int = 2):
        self.page, self.n = page, start

    def __call__(self) -> str:
        i = f"{self.page}:{self.n}"
        self.n += 1
        return i


def _layer(ids, name, type_, x, y, w=None, h=None, visible=True):
    n = {"id": ids(), "name": name, "type": type_, "scrollBehavior": "SCROLLS"}
    if not visible:
        n["visible"] = False
    n["_x"], n["_y"], n["_w"], n["_h"] = x, y, w, h
    return n


def frame(ids, name, x, y, w, h, children, fill="#FFFFFF", radius=0, clip=True, stroke=None,
          layout=None, spacing=0, pad=(0, 0, 0, 0), hug=False, counter_align="MIN", effects=None,
          grids=None, export=False, visible=True, constraints=("TOP", "LEFT"), type_="FRAME"):
    n = _layer(ids, name, type_, x, y, w, h, visible)
    n["blendMode"] = "PASS_THROUGH"
    n["children"] = children
    n["clipsContent"] = clip
    n["fills"] = [solid(fill)] if isinstance(fill, str) else (fill or [])
    n["strokes"] = [solid(stroke)] if stroke else []
    n["strokeWeight"] = 1
    n["strokeAlign"] = "INSIDE"
    if radius:
        n["cornerRadius"] = radius
        n["cornerSmoothing"] = 0
    n["backgroundColor"] = hex_rgba(fill) if isinstance(fill, str) else {"r": 0, "g": 0, "b": 0, "a": 0}
    n["effects"] = effects or []
    n["constraints"] = {"vertical": constraints[0], "horizontal": constraints[1]}
    if grids:
        n["layoutGrids"] = grids
    if export:
        n["exportSettings"] = [{"suffix": "", "format": "PNG", "constraint": {"type": "SCALE", "value": 2}}]
    if layout:
        n["layoutMode"] = layout
        n["itemSpacing"] = spacing
        n["paddingTop"], n["paddingRight"], n["paddingBottom"], n["paddingLeft"] = pad
        n["primaryAxisSizingMode"] = "AUTO" if hug else "FIXED"
        n["counterAxisSizingMode"] = "FIXED"
        n["primaryAxisAlignItems"] = "MIN"
        n["counterAxisAlignItems"] = counter_align
        n["layoutWrap"] = "NO_WRAP"
        _autolayout(n)
    return n


def _autolayout(n):
    """Position the children of an auto-layout frame (and hug its primary axis when asked)."""
    pt, pr, pb, pl = n["paddingTop"], n["paddingRight"], n["paddingBottom"], n["paddingLeft"]
    vertical = n["layoutMode"] == "VERTICAL"
    pos = pt if vertical else pl
    for c in n["children"]:
        cw, ch = c["_w"], c["_h"]
        if vertical:
            c["_y"] = pos
            c["_x"] = pl if n["counterAxisAlignItems"] != "CENTER" else (n["_w"] - cw) / 2
            pos += ch + n["itemSpacing"]
        else:
            c["_x"] = pos
            c["_y"] = pt if n["counterAxisAlignItems"] != "CENTER" else (n["_h"] - ch) / 2
            pos += cw + n["itemSpacing"]
        c["layoutAlign"] = "INHERIT"
        c["layoutGrow"] = c.pop("_grow", 0)
        fill_h = (vertical and cw == n["_w"] - pl - pr) or (not vertical and c["layoutGrow"] == 1)
        c["layoutSizingHorizontal"] = "FILL" if fill_h else "FIXED"
        c["layoutSizingVertical"] = "FIXED" if c["type"] != "TEXT" or c["style"].get("textAutoResize") is None else "HUG"
    if n["children"]:
        pos -= n["itemSpacing"]
    if n["primaryAxisSizingMode"] == "AUTO":
        if vertical:
            n["_h"] = pos + pb
        else:
            n["_w"] = pos + pr


def group(ids, name, x, y, children, visible=True):
    n = _layer(ids, name, "GROUP", x, y, None, None, visible)
    n["blendMode"] = "PASS_THROUGH"
    n["children"] = children
    n["clipsContent"] = False
    n["fills"] = []
    n["strokes"] = []
    n["strokeWeight"] = 1
    n["strokeAlign"] = "INSIDE"
    n["backgroundColor"] = {"r": 0, "g": 0, "b": 0, "a": 0}
    n["effects"] = []
    n["constraints"] = {"vertical": "TOP", "horizontal": "LEFT"}
    return n


def rect(ids, name, x, y, w, h, fill="#E5E7EB", radius=0, stroke=None, visible=True, opacity=None):
    n = _layer(ids, name, "RECTANGLE", x, y, w, h, visible)
    n["blendMode"] = "PASS_THROUGH"
    n["fills"] = [solid(fill)] if fill else []
    n["strokes"] = [solid(stroke)] if stroke else []
    n["strokeWeight"] = 1
    n["strokeAlign"] = "INSIDE"
    if radius:
        n["cornerRadius"] = radius
        n["cornerSmoothing"] = 0
    if opacity is not None:
        n["opacity"] = opacity
    n["effects"] = []
    n["constraints"] = {"vertical": "TOP", "horizontal": "LEFT"}
    return n


def ellipse(ids, name, x, y, w, h, fill="#9CA3AF", inner=0.0):
    n = _layer(ids, name, "ELLIPSE", x, y, w, h)
    n["blendMode"] = "PASS_THROUGH"
    n["fills"] = [solid(fill)]
    n["strokes"] = []
    n["strokeWeight"] = 1
    n["strokeAlign"] = "INSIDE"
    n["effects"] = []
    n["constraints"] = {"vertical": "TOP", "horizontal": "LEFT"}
    n["arcData"] = {"startingAngle": 0, "endingAngle": 6.2831854820251465, "innerRadius": inner}
    return n


WEIGHT_STYLE = {400: "Regular", 500: "Medium", 600: "Semi Bold", 700: "Bold", 800: "Extra Bold"}
INTER_INTRINSIC = 1.2102272510528564  # Inter's "auto" line height, as a multiple of the font size


def text(ids, name, x, y, w, h, chars, size=16, weight=400, lh=None, lh_unit="PIXELS", ls=0.0,
         resize="NONE", align="LEFT", valign="TOP", color="#111827", family="Inter", case=None,
         italic=False, truncate_lines=None, explicit_none=False, visible=True, grow=0):
    """A TEXT layer. resize: NONE (fixed box; the REST API omits textAutoResize then, unless
    explicit_none), HEIGHT, WIDTH_AND_HEIGHT. lh: line height in px (None: auto/intrinsic)."""
    n = _layer(ids, name, "TEXT", x, y, w, h, visible)
    n["blendMode"] = "PASS_THROUGH"
    n["fills"] = [solid(color)]
    n["strokes"] = []
    n["strokeWeight"] = 1
    n["strokeAlign"] = "OUTSIDE"
    n["effects"] = []
    n["constraints"] = {"vertical": "TOP", "horizontal": "LEFT"}
    n["characters"] = chars
    fstyle = WEIGHT_STYLE[weight] + (" Italic" if italic else "")
    psname = f"{family.replace(' ', '')}-{fstyle.replace(' ', '')}"
    if fstyle == "Regular Italic":
        fstyle, psname = "Italic", f"{family}-Italic"
    st = {"fontFamily": family, "fontPostScriptName": psname, "fontStyle": fstyle,
          "fontWeight": weight, "fontSize": size}
    if italic:
        st["italic"] = True
    if case:
        st["textCase"] = case
    if resize != "NONE" or explicit_none:
        st["textAutoResize"] = resize
    if truncate_lines:
        st["textTruncation"] = "ENDING"
        st["maxLines"] = truncate_lines
    st["textAlignHorizontal"] = align
    st["textAlignVertical"] = valign
    st["letterSpacing"] = ls
    if lh is None:
        st["lineHeightPx"] = round(size * INTER_INTRINSIC, 4)
        st["lineHeightPercent"] = 100
        st["lineHeightUnit"] = "INTRINSIC_%"
    else:
        st["lineHeightPx"] = lh
        st["lineHeightPercent"] = round(lh / (size * INTER_INTRINSIC) * 100, 4)
        st["lineHeightPercentFontSize"] = round(lh / size * 100, 4)
        st["lineHeightUnit"] = lh_unit
    n["style"] = st
    n["layoutVersion"] = 4
    lines = chars.split("\n")
    n["characterStyleOverrides"] = []
    n["styleOverrideTable"] = {}
    n["lineTypes"] = ["NONE"] * len(lines)
    n["lineIndentations"] = [0] * len(lines)
    if grow:
        n["_grow"] = grow
    return n


def finalize(n, ox, oy, parent_hidden=False):
    """Make coordinates absolute and fill absoluteBoundingBox / absoluteRenderBounds."""
    ax, ay = ox + n.pop("_x"), oy + n.pop("_y")
    w, h = n.pop("_w"), n.pop("_h")
    n.pop("_grow", None)
    hidden = parent_hidden or n.get("visible") is False
    if n["type"] == "GROUP":
        for c in n["children"]:
            finalize(c, ax, ay, hidden)
        boxes = [c["absoluteBoundingBox"] for c in n["children"]]
        x0 = min(b["x"] for b in boxes)
        y0 = min(b["y"] for b in boxes)
        x1 = max(b["x"] + b["width"] for b in boxes)
        y1 = max(b["y"] + b["height"] for b in boxes)
        box = {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}
    else:
        box = {"x": ax, "y": ay, "width": w, "height": h}
        for c in n.get("children", []):
            finalize(c, ax, ay, hidden)
    n["absoluteBoundingBox"] = box
    if hidden:
        n["absoluteRenderBounds"] = None
    else:
        rb = dict(box)
        for e in n.get("effects", []):
            if e["type"] == "DROP_SHADOW" and e["visible"]:
                r = e["radius"]
                rb = {"x": box["x"] - r + e["offset"]["x"], "y": box["y"] - r + e["offset"]["y"],
                      "width": box["width"] + 2 * r, "height": box["height"] + 2 * r}
        n["absoluteRenderBounds"] = rb
    # key order closer to what the API returns
    order = ["id", "name", "type", "visible", "scrollBehavior", "children", "blendMode", "opacity",
             "clipsContent", "background", "fills", "strokes", "strokeWeight", "strokeAlign",
             "cornerRadius", "cornerSmoothing", "backgroundColor", "layoutGrids", "exportSettings",
             "arcData", "absoluteBoundingBox", "absoluteRenderBounds", "constraints", "layoutAlign",
             "layoutGrow", "layoutSizingHorizontal", "layoutSizingVertical", "layoutMode",
             "itemSpacing", "paddingLeft", "paddingRight", "paddingTop", "paddingBottom",
             "primaryAxisSizingMode", "counterAxisSizingMode", "primaryAxisAlignItems",
             "counterAxisAlignItems", "layoutWrap", "characters", "style", "layoutVersion",
             "characterStyleOverrides", "styleOverrideTable", "lineTypes", "lineIndentations",
             "effects", "interactions"]
    items = sorted(n.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    n.clear()
    n.update(items)
    return n


def canvas(page_id, name, children, bg="#E5E5E5", start=None):
    for c in children:
        finalize(c, 0, 0)
    flows = [{"nodeId": start[0], "name": start[1]}] if start else []
    return {"id": page_id, "name": name, "type": "CANVAS", "scrollBehavior": "SCROLLS",
            "children": children, "backgroundColor": hex_rgba(bg),
            "prototypeStartNodeID": None, "flowStartingPoints": flows,
            "prototypeDevice": {"type": "NONE", "rotation": "NONE"}}


def file_doc(name, pages, version, modified, styles=None):
    return {
        "name": name,
        "role": "owner",
        "lastModified": modified,
        "editorType": "figma",
        "thumbnailUrl": "https://s3-alpha.figma.com/thumbnails/00000000-0000-4000-8000-000000000000",
        "version": version,
        "document": {"id": "0:0", "name": "Document", "type": "DOCUMENT", "scrollBehavior": "SCROLLS",
                     "children": pages},
        "components": {},
        "componentSets": {},
        "schemaVersion": 0,
        "styles": styles or {},
    }


# --------------------------------------------------------------------------------------------
# Template A: a 1920x1080 slide ("Market Pulse" deck, page 1). Dense, fields at depth 2-3.
# Deliberate mistakes: "#sumary.5" (misspelled), "#chart.competitors" on a TEXT layer,
# "#question.2.insight" (index missing).
# --------------------------------------------------------------------------------------------
A_INVALID = ["#sumary.5", "#chart.competitors", "#question.2.insight"]


def template_a():
    i = Ids(1)
    ink, muted, brand, card = "#0F172A", "#64748B", "#2F6FEB", "#FFFFFF"

    header = group(i, "Header", 96, 56, [
        text(i, "Eyebrow", 0, 0, 640, 24, "Market pulse · Plant-based dairy", 16, 700, lh=24, ls=2.4,
             color=brand, case="UPPER"),
        text(i, "#title", 0, 36, 1180, 128, "Oat drinks are winning shelf space in Western Europe",
             56, 700, lh=64, ls=-1.12, color=ink),
        group(i, "Meta", 0, 176, [
            text(i, "#date", 0, 0, 220, 28, "14 October 2026", 20, 500, lh=28, color=muted),
            text(i, "Meta separator", 228, 0, 12, 28, "·", 20, 500, lh=28, color=muted),
            text(i, "#markets", 248, 0, 452, 28, "Germany (DE), France (FR), Netherlands (NL)", 20, 500,
                 lh=28, resize="WIDTH_AND_HEIGHT", color=muted),
            text(i, "#audience", 0, 36, 900, 24, "For category managers and buyers in grocery retail",
                 16, 400, lh=24, resize="HEIGHT", color=muted),
        ]),
    ])

    banner = frame(i, "#banner", 1320, 64, 504, 80, [
        ellipse(i, "Status dot", 0, 0, 12, 12, fill="#7C2D12"),
        text(i, "#banner.text", 0, 0, 428, 48,
             "Degraded: 2 of 3 providers answered; figures may be incomplete.", 16, 600, lh=24,
             resize="HEIGHT", color="#7C2D12"),
    ], fill="#FBBF24", radius=12, layout="HORIZONTAL", spacing=16, pad=(16, 24, 16, 24),
        counter_align="CENTER", constraints=("TOP", "RIGHT"))

    summary = frame(i, "Summary column", 96, 296, 560, 600, [
        text(i, "Summary heading", 32, 28, 496, 32, "Executive summary", 24, 700, lh=32, color=ink),
        rect(i, "Divider", 32, 72, 496, 1, fill="#E2E8F0"),
        text(i, "#summary.1", 32, 92, 496, 108,
             "Germany is the largest market at about €1.2 bn, growing 8 % a year; oat has overtaken "
             "soy as the leading base.", 18, 400, lh=27, color=ink),
        text(i, "#summary.2", 32, 212, 496, 108,
             "Private label holds close to half of unit sales in German and Dutch discounters.",
             18, 400, lh=27, color=ink),
        # deliberately one line high for what is usually a two- or three-line sentence
        text(i, "#summary.3", 32, 332, 496, 27, "France grows fastest from a low base.", 18, 400,
             lh=27, color=ink),
        text(i, "#summary.4", 32, 371, 496, 54,
             "Price gap to dairy milk is below 20 cents per litre in DE and NL.", 18, 400, lh=27,
             resize="HEIGHT", color=ink),
        text(i, "#sumary.5", 32, 437, 496, 81,
             "Barista editions and foodservice keep brands ahead of private label on margin.",
             18, 400, lh=27, color=ink),
        group(i, "Footnote", 32, 538, [
            text(i, "Sources label", 0, 0, 72, 16, "Sources", 12, 700, lh=16, color=muted, case="UPPER",
                 ls=0.6),
            text(i, "#providers", 80, 0, 416, 36,
                 "OpenAI: answered · Anthropic: answered · Google: timed out", 12, 400, lh=18,
                 color=muted),
        ]),
    ], fill=card, radius=16, effects=[shadow(4, 16, 0.06)])

    def q_block(q, y, extra):
        return group(i, f"Question {q}", 32, y, [
            rect(i, "Number badge", 0, 0, 32, 32, fill=brand, radius=16),
            text(i, "Badge number", 0, 4, 32, 24, str(q), 16, 700, lh=24, align="CENTER",
                 color="#FFFFFF"),
            text(i, f"#question.{q}", 48, 0, 488, 48,
                 ["How large is the plant-based drinks market in each country, and how fast is it growing?",
                  "Which brands lead, and how strong is private label?",
                  "Where should a challenger brand launch first?"][q - 1],
                 18, 700, lh=24, color=ink),
        ] + extra)

    questions = frame(i, "Questions", 688, 296, 600, 600, [
        text(i, "Questions heading", 32, 28, 536, 32, "What we asked, what we found", 24, 700, lh=32,
             color=ink),
        q_block(1, 84, [
            text(i, "#question.1.finding.1", 48, 56, 488, 44,
                 "DE ≈ €1.2 bn (2025), FR ≈ €540 m, NL ≈ €310 m.", 15, 400, lh=22, color=ink),
            text(i, "#question.1.finding.2", 48, 104, 488, 44,
                 "Growth is highest in France at 11–13 % a year.", 15, 400, lh=22, resize="HEIGHT",
                 color=ink),
        ]),
        q_block(2, 260, [
            text(i, "#question.2.finding.1", 48, 56, 488, 44,
                 "Oatly and Alpro lead branded sales in all three markets.", 15, 400, lh=22, color=ink),
            # deliberately one line (22 px) for a finding
            text(i, "#question.2.finding.2", 48, 104, 488, 22,
                 "Private label is strongest in German discounters.", 15, 400, lh=22, color=ink),
            text(i, "#question.2.insight", 48, 132, 488, 22,
                 "Insight: the premium is shrinking.", 15, 400, lh=22, italic=True, color=muted),
        ]),
        q_block(3, 436, [
            text(i, "#question.3.finding.1", 48, 56, 488, 44,
                 "The Netherlands has the highest per-capita use and an open foodservice channel.",
                 15, 400, lh=22, color=ink),
            text(i, "#question.3.recommendation.1", 48, 104, 488, 44,
                 "Start in Dutch foodservice, then list in French hypermarkets.", 15, 600, lh=22,
                 resize="HEIGHT", color=brand),
        ]),
    ], fill=card, radius=16, effects=[shadow(4, 16, 0.06)])

    charts = frame(i, "Charts", 1320, 296, 504, 600, [
        text(i, "Chart heading 1", 24, 24, 456, 24, "Market size, EUR m", 18, 700, lh=24, color=ink),
        rect(i, "#chart.market_size", 24, 56, 456, 220, fill="#F1F5F9", radius=8),
        text(i, "Chart heading 2", 24, 292, 456, 24, "Competitors", 18, 700, lh=24, color=ink),
        # chart field put on a TEXT layer (a placeholder note): wrong layer type
        text(i, "#chart.competitors", 24, 324, 456, 150, "[ competitor chart goes here ]", 14, 400,
             lh=20, align="CENTER", valign="CENTER", color=muted),
        text(i, "Disagreements heading", 24, 490, 456, 20, "Where sources disagree", 14, 700, lh=20,
             color=ink),
        text(i, "#disagreements", 24, 516, 456, 54,
             "NL market size: OpenAI €310 m (2024) · Anthropic €265 m (2025)", 13, 400, lh=18,
             color=muted),
    ], fill=card, radius=16, effects=[shadow(4, 16, 0.06)])

    def market(code, x, name, extra):
        return group(i, f"Market {code}", x, 0, [
            rect(i, "Flag chip", 0, 8, 40, 40, fill="#E0E7FF", radius=8),
            text(i, "Flag code", 0, 16, 40, 24, code, 16, 700, lh=24, align="CENTER", color=brand),
            text(i, "Market label", 56, 0, 200, 16, name, 12, 500, lh=16, color=muted, case="UPPER",
                 ls=0.6),
            text(i, f"#market.{code}.size", 56, 18, 200, 30, "€1.2 bn", 24, 700, lh=30, color=ink),
            text(i, f"#market.{code}.growth", 56, 50, 200, 20, "+8.4 % a year", 14, 400, lh=20,
                 color="#15803D"),
        ] + extra)

    strip = frame(i, "Market strip", 96, 920, 1728, 72, [
        market("DE", 0, "Germany", [
            text(i, "#market.DE.leader", 272, 8, 300, 40, "Oatly, 24 % share", 14, 400, lh=20,
                 color=ink)]),
        market("FR", 600, "France", [
            text(i, "#market.FR.year", 272, 8, 120, 20, "2025", 14, 400, lh=20, color=muted)]),
        market("NL", 1200, "Netherlands", [
            text(i, "#market.NL.leader", 272, 8, 256, 20, "Alpro, 31 % share", 14, 400, lh=20,
                 color=ink)]),
    ], fill=[], clip=False)

    slide = frame(i, "Slide 01 — Market pulse", 0, 0, 1920, 1080, [
        rect(i, "Background accent", 0, 0, 1920, 8, fill=brand),
        rect(i, "Safe area guide", 96, 56, 1728, 968, fill=None, stroke="#FF00FF", visible=False),
        header, banner, summary, questions, charts, strip,
        rect(i, "Footer rule", 96, 1016, 1728, 1, fill="#CBD5E1"),
        text(i, "#quorum", 96, 1028, 420, 20, "2 of 3 providers answered (quorum 2)", 12, 400, lh=20,
             color=muted),
        text(i, "Confidential", 1400, 1028, 320, 20, "Confidential — internal use only", 12, 400,
             lh=20, align="RIGHT", color=muted),
        text(i, "Page number", 1784, 1028, 40, 20, "01", 12, 700, lh=20, align="RIGHT", color=muted),
    ], fill="#F8FAFC", export=True,
        grids=[{"pattern": "COLUMNS", "sectionSize": 121.33, "visible": True,
                "color": {"r": 1, "g": 0, "b": 0, "a": 0.1}, "alignment": "STRETCH",
                "gutterSize": 24, "offset": 96, "count": 12}])

    # second page: an older cover draft with two fields (already used on page 1); the page with
    # the most fields ("Slides") is the one to fill
    j = Ids(7)
    draft = frame(j, "Cover v1 (draft)", 0, 0, 1920, 1080, [
        rect(j, "Hero image", 0, 0, 1920, 1080, fill="#1E293B"),
        text(j, "#title", 120, 720, 1400, 140, "Market pulse: plant-based dairy", 64, 800, lh=70,
             color="#FFFFFF"),
        text(j, "#date", 120, 880, 400, 32, "October 2026", 24, 400, lh=32, color="#CBD5E1"),
        text(j, "Logo wordmark", 1600, 80, 200, 40, "acme insights", 24, 700, lh=40, align="RIGHT",
             color="#FFFFFF"),
    ], fill="#0F172A")

    pages = [canvas("0:1", "Slides", [slide], start=(slide["id"], "Flow 1")),
             canvas("7:1", "Archive", [draft], bg="#F5F5F5")]
    return file_doc("Market Pulse Deck", pages, "2189043321", "2026-11-27T15:42:10Z")


# --------------------------------------------------------------------------------------------
# Template B: a portrait one-pager (A4 at 150 dpi, 1240x1754), auto-layout repeated groups.
# Deliberate mistakes: "#tilte" (misspelled title), "#claim.agreement" outside any group,
# "#market.FR.share" (no such market attribute).
# --------------------------------------------------------------------------------------------
B_INVALID = ["#tilte", "#claim.agreement", "#market.FR.share"]


def template_b():
    i = Ids(3)
    ink, muted, green, pale = "#14281D", "#5B6B63", "#1F5136", "#EEF4F0"

    masthead = group(i, "Masthead", 80, 56, [
        text(i, "Kicker", 0, 0, 400, 20, "Market brief", 14, 700, lh=20, ls=3, case="UPPER",
             color="#A7D7B8"),
        text(i, "#tilte", 0, 32, 1080, 60, "E-bikes in Western Europe: where the growth is",
             44, 700, lh=56, ls=-0.44, color="#FFFFFF"),
        text(i, "#product", 0, 104, 700, 32, "Urban e-bike, mid-price segment", 22, 500, lh=32,
             color="#FFFFFF"),
        text(i, "#date", 800, 104, 280, 32, "1 December 2026", 18, 400, lh=32, align="RIGHT",
             color="#D1E7DA"),
        text(i, "#audience", 0, 148, 1080, 24, "For the European go-to-market team", 16, 400,
             lh=24, resize="HEIGHT", color="#D1E7DA"),
    ])

    takeaway = frame(i, "Takeaway", 0, 0, 1080, 48, [
        text(i, "#claim.label", 0, 0, 48, 24, "C1", 14, 700, lh=24, color=green),
        text(i, "#claim.text", 0, 0, 1016, 48,
             "The Netherlands has the highest e-bike share of new bicycle sales (over 50 %).",
             16, 400, lh=24, resize="HEIGHT", color=ink, grow=1),
    ], fill=[], clip=False, layout="HORIZONTAL", spacing=16)

    summary_section = frame(i, "Summary section", 80, 376, 1080, 340, [
        text(i, "Section title", 0, 0, 1080, 32, "Key takeaways", 24, 700, lh=32, color=ink),
        frame(i, "#summary[]", 0, 48, 1080, 0, [takeaway], fill=[], clip=False, layout="VERTICAL",
              spacing=12, hug=True),
        # the designer put the agreement label under the list instead of inside the prototype
        text(i, "#claim.agreement", 0, 300, 400, 20, "Agreement: high", 13, 500, lh=20,
             color=muted),
    ], fill=[], clip=False)

    card = frame(i, "Market card", 0, 0, 344, 220, [
        text(i, "#market.code", 20, 20, 60, 32, "NL", 24, 800, lh=32, color=green),
        text(i, "#market.name", 88, 24, 236, 24, "Netherlands", 16, 500, lh=24, color=ink),
        text(i, "#market.size", 20, 64, 304, 40, "€2.1 bn", 32, 700, lh=40, color=ink),
        text(i, "#market.growth", 20, 110, 150, 20, "+6.2 % a year", 14, 400, lh=20,
             color="#15803D"),
        text(i, "#market.year", 180, 110, 144, 20, "2025", 14, 400, lh=20, align="RIGHT",
             color=muted),
        group(i, "Leader row", 20, 142, [
            rect(i, "Divider", 0, 0, 304, 1, fill="#C9DCD0"),
            text(i, "#market.leader", 0, 12, 304, 20, "Gazelle, 18 % share", 13, 600, lh=20,
                 color=ink),
            text(i, "#market.missing", 0, 38, 304, 32, "No data: average selling price", 11, 400,
                 lh=16, color=muted, italic=True),
        ]),
    ], fill=pale, radius=12)

    markets = frame(i, "#markets[]", 80, 740, 1080, 220, [card], fill=[], clip=False,
                    layout="HORIZONTAL", spacing=24)

    findings = frame(i, "Findings", 80, 1000, 640, 600, [
        text(i, "Findings heading", 0, 0, 640, 32, "What the evidence says", 24, 700, lh=32,
             color=ink),
        group(i, "Q1", 0, 48, [
            # one line for a question: probably too small
            text(i, "#question.1", 0, 0, 640, 26, "How big is the e-bike market in each country?",
                 18, 700, lh=26, color=ink),
            text(i, "#question.1.insight.1", 0, 34, 640, 66,
                 "Germany sells the most units; the Netherlands spends the most per bike.",
                 14, 400, lh=22, color=ink),
            text(i, "#question.1.recommendation.1", 0, 106, 640, 44,
                 "Lead with the premium range in NL.", 14, 400, lh=22, italic=True,
                 resize="HEIGHT", color=green),
        ]),
        group(i, "Q2", 0, 220, [
            text(i, "#question.2", 0, 0, 640, 52,
                 "Who are the leading brands and how are their shares moving?", 18, 700, lh=26,
                 color=ink),
            text(i, "#question.2.insight.1", 0, 60, 640, 88,
                 "Direct-to-consumer brands gained share in France since 2024.", 14, 400, lh=22,
                 resize="HEIGHT", color=ink),
            text(i, "#question.2.finding.1", 0, 156, 640, 44,
                 "Gazelle and Cube lead; VanMoof's restart is still small.", 14, 400, lh=22,
                 truncate_lines=2, color=ink),
        ]),
        group(i, "Q3", 0, 430, [
            text(i, "#question.3", 0, 0, 640, 26, "Where should we launch first?", 18, 700,
                 lh=26, color=ink),
            text(i, "#question.3.recommendation.1", 0, 34, 640, 44,
                 "Launch in the Netherlands in spring.", 14, 400, lh=22, explicit_none=True,
                 color=ink),
            text(i, "#question.3.recommendation.2", 0, 84, 640, 44,
                 "Partner with French city-bike subsidies.", 14, 400, lh=22, explicit_none=True,
                 color=ink),
        ]),
    ], fill=[], clip=False)

    charts = frame(i, "Charts column", 760, 1000, 400, 600, [
        text(i, "Chart title", 16, 16, 368, 24, "Market size by country", 16, 700, lh=24, color=ink),
        frame(i, "#chart.market_size", 16, 48, 368, 220, [
            text(i, "Placeholder label", 0, 98, 368, 24, "chart", 14, 400, lh=24, align="CENTER",
                 color=muted),
        ], fill="#FFFFFF", radius=8),
        text(i, "Chart title 2", 16, 292, 368, 24, "Share of leading brands", 16, 700, lh=24,
             color=ink),
        rect(i, "#chart.competitors", 16, 324, 368, 220, fill="#FFFFFF", radius=8),
        text(i, "#market.FR.share", 16, 556, 368, 20, "France: leader holds 31 %", 12, 400, lh=20,
             color=muted),
    ], fill="#F3F4F6", radius=12)

    footer = frame(i, "Footer", 80, 1620, 1080, 110, [
        text(i, "Disagreements heading", 0, 0, 700, 20, "Open questions between sources", 13, 700,
             lh=20, color=ink),
        text(i, "#disagreements", 0, 26, 700, 72,
             "NL share of e-bikes: 52 % vs 48 % of new bicycle sales.\n"
             "FR market size: €1.4 bn vs €1.1 bn.", 12, 400, lh=18, color=muted),
        group(i, "Provenance", 740, 26, [
            text(i, "#quorum", 0, 0, 340, 20, "3 of 3 providers answered", 12, 600, lh=20,
                 align="RIGHT", color=ink),
            text(i, "#providers", 0, 24, 340, 45, "OpenAI ✓ · Anthropic ✓ · Google ✓", 11, 400,
                 lh=15, resize="HEIGHT", align="RIGHT", color=muted),
        ]),
    ], fill=[], clip=False)

    page = frame(i, "A4 portrait — market brief", 0, 0, 1240, 1754, [
        rect(i, "Header band", 0, 0, 1240, 280, fill=green),
        masthead,
        rect(i, "#banner", 80, 300, 1080, 56, fill="#16A34A", radius=8),
        text(i, "#banner.text", 104, 316, 1032, 24, "All providers answered.", 16, 600, lh=24,
             color="#FFFFFF"),
        summary_section, markets, findings, charts, footer,
    ], fill="#FFFFFF", export=True)

    note = text(i, "Note to copywriter", 1320, 0, 480, 120,
                "Fields start with #. Keep the takeaways under two lines; the market cards repeat "
                "per market.", 16, 400, lh=24, resize="HEIGHT", color="#92400E")
    # one local text style, used by the section headings
    styles = {"3:900": {"key": "1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "name": "Heading/H2",
                        "description": "Section headings", "remote": False, "styleType": "TEXT"}}
    for n in (summary_section["children"][0], findings["children"][0]):
        n["styles"] = {"text": "3:900"}
    return file_doc("Portrait One-Pager", [canvas("0:1", "Report", [page, note], bg="#E5E5E5")],
                    "2190011874", "2026-11-30T09:05:44Z", styles=styles)


# --------------------------------------------------------------------------------------------
# Template C: a compact 4:5 social card (1080x1350), groups nested 3-5 deep.
# Deliberate mistakes: "#audience" on a RECTANGLE (the pill background), "#market.code" inside the
# #claims[] prototype (an item field of #markets[]), "#chart.market-size" (hyphen).
# --------------------------------------------------------------------------------------------
C_INVALID = ["#audience", "#market.code", "#chart.market-size"]


def template_c():
    i = Ids(12)
    bg, ink, muted, accent, panel = "#111827", "#F9FAFB", "#9CA3AF", "#34D399", "#1F2937"

    top = group(i, "Top", 0, 0, [
        rect(i, "#audience", 0, 0, 220, 40, fill=accent, radius=20),
        text(i, "Audience pill label", 16, 8, 188, 24, "Retail buyers", 15, 600, lh=24,
             align="CENTER", color=bg),
        text(i, "#date", 720, 8, 216, 24, "Dec 2026", 16, 400, lh=24, align="RIGHT", color=muted),
        # two lines of 40 px type: long titles will not fit
        text(i, "#title", 0, 64, 936, 96, "Oat drinks: the quiet winner", 40, 800, lh=48,
             ls=-0.8, color=ink),
        text(i, "#markets", 0, 172, 936, 24, "Germany · France · Netherlands", 16, 400, lh=24,
             resize="HEIGHT", color=muted),
    ])

    claim_row = frame(i, "Claim row", 0, 0, 936, 150, [
        text(i, "#claim.label", 20, 20, 56, 28, "C1", 20, 800, lh=28, color=accent),
        text(i, "#market.code", 20, 56, 56, 20, "DE", 12, 600, lh=20, color=muted),
        group(i, "Claim body", 92, 20, [
            # two lines of 20 px: tight for a full claim sentence
            text(i, "#claim.text", 0, 0, 824, 66,
                 "Oat overtook soy as the leading base in all three markets in 2025.", 20, 500,
                 lh=33, color=ink),
            text(i, "#claim.question", 0, 72, 824, 20, "Q1 · market size and growth", 13, 400,
                 lh=20, color=muted),
        ]),
        group(i, "Claim meta", 92, 104, [
            text(i, "#claim.agreement", 0, 0, 180, 24, "High agreement", 13, 500, lh=24,
                 color=ink),
            text(i, "#claim.grounding", 196, 0, 180, 24, "Grounded", 13, 500, lh=24, color=ink),
            text(i, "#claim.providers", 392, 0, 260, 24, "OpenAI, Anthropic", 13, 400, lh=24,
                 color=muted),
            text(i, "#claim.kind", 668, 0, 156, 24, "finding", 12, 700, lh=24, ls=1.2,
                 align="RIGHT", case="UPPER", color=accent),
        ]),
    ], fill=panel, radius=12)

    middle = group(i, "Middle", 0, 228, [
        frame(i, "#claims[]", 0, 0, 936, 0, [claim_row], fill=[], clip=False, layout="VERTICAL",
              spacing=16, hug=True),
    ])

    disagreement = group(i, "Disagreement", 0, 0, [
        rect(i, "Row bg", 0, 0, 936, 72, fill=panel, radius=10),
        text(i, "#disagreement.topic", 16, 12, 600, 20, "Dutch market size", 14, 700, lh=20,
             color=ink),
        text(i, "#disagreement.positions", 16, 36, 904, 28,
             "OpenAI: €310 m (2024) · Anthropic: €265 m (2025)", 12, 400, lh=14, color=muted),
    ])

    bottom = group(i, "Bottom", 0, 400, [
        group(i, "Charts", 0, 0, [
            ellipse(i, "#chart.competitors", 0, 0, 300, 300, fill="#374151", inner=0.55),
            text(i, "Donut caption", 0, 312, 300, 20, "Top brands by share", 13, 500, lh=20,
                 align="CENTER", color=muted),
            rect(i, "#chart.market-size", 336, 0, 600, 300, fill="#374151", radius=12),
            text(i, "Bar caption", 336, 312, 600, 20, "Market size, EUR m", 13, 500, lh=20,
                 align="CENTER", color=muted),
        ]),
        group(i, "#disagreements[]", 0, 352, [disagreement]),
    ])

    content = group(i, "Content", 72, 72, [top, middle, bottom])

    def chip(code, x, f1, f2):
        return group(i, f"Chip {code}", x, 0, [
            rect(i, "Chip bg", 0, 0, 296, 96, fill=panel, radius=12),
            text(i, f"#market.{code}.name", 16, 12, 264, 24, f1, 18, 700, lh=24, color=ink),
            f2,
        ])

    chips = group(i, "Market chips", 72, 920, [
        chip("DE", 0, "Germany",
             text(i, "#market.DE.leader", 16, 44, 264, 40, "Oatly, 24 % share", 13, 400, lh=20,
                  color=muted)),
        chip("FR", 320, "France",
             text(i, "#market.FR.missing", 16, 44, 264, 40, "—", 13, 400, lh=20, color=muted)),
        chip("NL", 640, "Netherlands",
             text(i, "#market.NL.year", 16, 44, 264, 20, "2025", 13, 400, lh=20, color=muted)),
    ])

    banner = frame(i, "#banner", 72, 1040, 936, 56, [
        text(i, "#banner.text", 0, 0, 888, 24, "Below quorum: treat these figures as indicative.",
             15, 600, lh=24, color=bg),
    ], fill="#F59E0B", radius=28, layout="HORIZONTAL", pad=(16, 24, 16, 24), counter_align="CENTER")

    footer = group(i, "Footer", 72, 1200, [
        text(i, "#quorum", 0, 0, 300, 20, "2 of 3 providers", 13, 600, lh=20, color=ink),
        text(i, "#providers", 0, 24, 600, 36, "OpenAI answered · Anthropic answered · Google failed",
             11, 400, lh=18, color=muted),
        text(i, "Brand", 680, 8, 200, 24, "acme insights", 16, 700, lh=24, align="RIGHT",
             color=ink),
        ellipse(i, "Logo mark", 896, 0, 40, 40, fill=accent),
    ])

    card = frame(i, "Card 4:5 — key findings", 0, 0, 1080, 1350, [
        ellipse(i, "Glow", 620, -200, 700, 700, fill=accent),
        content, chips, banner, footer,
    ], fill=bg, export=True)
    # the glow is a soft decoration
    card["children"][0]["opacity"] = 0.12
    return file_doc("Social Card - Key Findings", [canvas("0:1", "Social", [card], bg="#2C2C2C")],
                    "2190450102", "2026-11-30T17:21:03Z")


# --------------------------------------------------------------------------------------------
# expected.json
# --------------------------------------------------------------------------------------------


def hash_names(doc, page_index=None):
    out = []

    def walk(n):
        if n.get("name", "").startswith("#") and n["type"] not in ("DOCUMENT", "CANVAS"):
            if n["name"] not in out:
                out.append(n["name"])
        for c in n.get("children", []):
            walk(c)

    pages = doc["document"]["children"]
    for p in (pages if page_index is None else [pages[page_index]]):
        walk(p)
    return out


def expected_for(doc, invalid):
    names = hash_names(doc)
    assert set(invalid) <= set(names), set(invalid) - set(names)
    return {"fields": [n for n in names if n not in invalid], "invalid": list(invalid)}


# --------------------------------------------------------------------------------------------
# fit.json: unlabelled text-fit cases. Box sizes are chosen around an Inter-like width estimate
# (Helvetica advances x 1.04, CJK/Hangul full width, greedy word wrap) so that many cases sit
# near the border; the reference measurement with real font metrics does the labelling.
# --------------------------------------------------------------------------------------------

_HELV = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    [278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278] + [556] * 10 +
    [278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556,
     833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
     333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333,
     500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584]))
_FOLD = str.maketrans("àâäáãåçéèêëíìîïñóòôöõúùûüýÿßÀÂÄÇÉÈÊËÎÏÔÖÙÛÜ’“”«»–—€…·≈✓",
                      "aaaaaaceeeeiiiinooooouuuuyysAAACEEEEIIOOUUU'\"\"\"\"-mE.-=v")


def _is_wide(ch: str) -> bool:
    o = ord(ch)
    return (0x1100 <= o <= 0x11FF or 0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF
            or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFF60 or 0x3000 <= o <= 0x303F)


def _adv(ch: str, size: float, ls: float) -> float:
    if _is_wide(ch):
        return size + ls
    c = ch.translate(_FOLD)
    if c == "E" and ch == "€":
        return 0.556 * 1.04 * size + ls
    w = _HELV.get(c[0] if c else "n", 556)
    return w / 1000 * 1.04 * size + ls


def _tokens(par: str):
    """Break opportunities: after spaces (the space hangs), around wide characters."""
    toks, cur = [], ""
    for ch in par:
        if _is_wide(ch):
            if cur:
                toks.append(cur)
                cur = ""
            toks.append(ch)
        elif ch == " ":
            toks.append(cur + " ")
            cur = ""
        else:
            cur += ch
    if cur:
        toks.append(cur)
    return toks


def est_lines(text_: str, width: float, size: float, ls: float) -> int:
    total = 0
    for par in text_.split("\n"):
        lines, x = 1, 0.0
        for t in _tokens(par):
            body = t.rstrip(" ")
            tw = sum(_adv(c, size, ls) for c in body)
            sw = sum(_adv(c, size, ls) for c in t[len(body):])
            if x > 0 and x + tw > width:
                lines, x = lines + 1, 0.0
            if tw > width:  # a word longer than the line: broken by characters
                for c in body:
                    a = _adv(c, size, ls)
                    if x > 0 and x + a > width:
                        lines, x = lines + 1, 0.0
                    x += a
            else:
                x += tw
            x += sw
        total += lines
    return total


def one_line_width(text_: str, size: float, ls: float) -> float:
    return sum(_adv(c, size, ls) for c in text_)


def min_width_for(text_: str, lines: int, size: float, ls: float, hi: float) -> float:
    lo = 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if est_lines(text_, mid, size, ls) <= lines:
            hi = mid
        else:
            lo = mid
    return hi


TEXTS = {
    # English
    "en_title": ("en", "Oat drinks grow fastest"),
    "en_kicker": ("en", "MARKET PULSE — PLANT-BASED DAIRY"),
    "en_date": ("en", "14 October 2026"),
    "en_markets": ("en", "Germany (DE), France (FR), Netherlands (NL)"),
    "en_sum": ("en", "Germany is the largest market for plant-based drinks in the region, at roughly "
                     "€1.2 bn in 2025."),
    "en_claim": ("en", "Private-label oat drinks now account for almost half of unit sales in German "
                       "discounters, compressing branded price premiums by 12–18 % since 2023."),
    "en_long": ("en", "Across all three markets, the evidence points the same way: shoppers trade down "
                      "within the category rather than out of it. Retailers have expanded private-label "
                      "ranges, brands defend share through barista editions and foodservice, and the "
                      "price gap to dairy has narrowed to under 20 cents per litre in Germany and the "
                      "Netherlands. France lags on penetration but shows the steepest growth."),
    "en_reco": ("en", "Recommendation: prioritise the Dutch foodservice channel before expanding retail "
                      "listings in France."),
    "en_banner": ("en", "Degraded: 2 of 3 providers answered; figures may be incomplete."),
    "en_disagree": ("en", "NL market size: OpenAI €310 m (2024) · Anthropic €265 m (2025) · Google: "
                          "no figure\nFR growth: OpenAI 11 % · Anthropic 13 %"),
    "en_figures": ("en", "€1,218.4 m (+8.4 % YoY, 2025); Oatly 24 %, Alpro 21 %, private label 38 %."),
    "en_question": ("en", "How large is the plant-based drinks market in each country, and how fast is "
                          "it growing?"),
    "en_providers": ("en", "OpenAI: answered · Anthropic: answered · Google: timed out"),
    # German
    "de_title": ("de", "Haferdrinks wachsen am schnellsten"),
    "de_compound": ("de", "Lebensmitteleinzelhandelsunternehmen"),
    "de_sum": ("de", "Deutschland ist mit rund 1,2 Mrd. € der größte Markt für pflanzliche "
                     "Milchalternativen in der Region."),
    "de_claim": ("de", "Handelsmarken-Haferdrinks machen inzwischen fast die Hälfte des Absatzes im "
                       "Lebensmitteleinzelhandel aus; die Preisaufschläge der Markenhersteller sind "
                       "seit 2023 um 12–18 % gesunken."),
    "de_compounds": ("de", "Nachhaltigkeitsberichterstattungspflichten und "
                           "Verpackungsrücknahmeverordnungen erhöhen die Markteintrittskosten für "
                           "Eigenmarkenhersteller erheblich."),
    "de_long": ("de", "In allen drei Märkten zeigt sich dasselbe Muster: Verbraucherinnen und "
                      "Verbraucher wechseln innerhalb der Kategorie zu günstigeren Angeboten, statt sie "
                      "zu verlassen. Der Lebensmitteleinzelhandel hat seine Eigenmarkensortimente "
                      "ausgebaut, Markenhersteller verteidigen ihre Marktanteile über Barista-Editionen "
                      "und das Außer-Haus-Geschäft, und der Preisabstand zur Kuhmilch ist auf unter "
                      "20 Cent je Liter geschrumpft."),
    "de_reco": ("de", "Empfehlung: Außer-Haus-Vertriebskanal in den Niederlanden priorisieren."),
    "de_banner": ("de", "Eingeschränkt: 2 von 3 Anbietern haben geantwortet."),
    "de_index": ("de", "Verbraucherpreisindexentwicklung im Lebensmittelbereich"),
    # French
    "fr_title": ("fr", "Les boissons à l'avoine progressent le plus vite"),
    "fr_sum": ("fr", "La France affiche la croissance la plus rapide, mais une pénétration encore "
                     "inférieure à celle de l'Allemagne et des Pays-Bas."),
    "fr_long": ("fr", "Dans les trois marchés, les données convergent : les consommateurs arbitrent au "
                      "sein de la catégorie plutôt que de la quitter. Les distributeurs ont élargi leurs "
                      "gammes de marques propres, les marques défendent leurs parts grâce aux éditions "
                      "« barista » et à la restauration hors domicile, et l'écart de prix avec le lait "
                      "de vache s'est réduit à moins de 20 centimes par litre."),
    "fr_reco": ("fr", "Recommandation : privilégier la restauration hors domicile aux Pays-Bas avant "
                      "d'élargir le référencement en France."),
    "fr_disagree": ("fr", "Désaccord : taille du marché néerlandais — 310 M€ (2024) contre 265 M€ (2025)."),
    "fr_head": ("fr", "Résumé exécutif"),
    # Dutch
    "nl_title": ("nl", "Haverdranken groeien het snelst"),
    "nl_sum": ("nl", "Nederland heeft de hoogste penetratie van plantaardige zuivelalternatieven per "
                     "hoofd van de bevolking in de regio."),
    "nl_claim": ("nl", "Huismerkhaverdranken zijn goed voor bijna de helft van de verkochte eenheden bij "
                       "discountsupermarkten; de prijspremie van A-merken is sinds 2023 met 12 tot 18 "
                       "procent gedaald."),
    "nl_compound": ("nl", "Consumentenbestedingsonderzoeksresultaten"),
    "nl_long": ("nl", "In alle drie de markten wijst het bewijs dezelfde kant op: consumenten stappen "
                      "binnen de categorie over op goedkopere alternatieven in plaats van de categorie "
                      "te verlaten. Supermarkten hebben hun huismerkassortimenten uitgebreid en merken "
                      "verdedigen hun marktaandeel met barista-edities en de horeca."),
    # Japanese
    "ja_title": ("ja", "オーツ飲料が最も急成長"),
    "ja_sum": ("ja", "ドイツは2025年に約12億ユーロ規模で、地域最大の植物性ミルク市場です。"),
    "ja_long": ("ja", "3つの市場すべてで、消費者はカテゴリーから離れるのではなく、カテゴリー内でより安価な"
                      "商品に切り替えています。小売業者はプライベートブランドの品揃えを拡大し、ブランドは"
                      "バリスタ向け商品と外食チャネルでシェアを守っています。ドイツとオランダでは牛乳との"
                      "価格差が1リットルあたり20セント未満に縮小しました。"),
    "ja_reco": ("ja", "提言：フランスでの小売展開の前に、オランダの外食チャネルを優先すること。"),
    # Chinese
    "zh_title": ("zh", "燕麦饮品增长最快"),
    "zh_sum": ("zh", "德国是该地区最大的植物基饮品市场，2025年规模约为12亿欧元。"),
    "zh_long": ("zh", "在三个市场中，证据都指向同一方向：消费者在品类内部转向更便宜的产品，而不是离开该品类。"
                      "零售商扩大了自有品牌产品线，品牌则通过咖啡师系列和餐饮渠道捍卫市场份额。在德国和荷兰，"
                      "与牛奶的价格差距已缩小至每升不到20欧分。法国的渗透率较低，但增长最快。"),
    "zh_reco": ("zh", "建议：在扩大法国零售渠道之前，优先发展荷兰餐饮渠道。"),
    # Korean
    "ko_title": ("ko", "귀리 음료가 가장 빠르게 성장"),
    "ko_sum": ("ko", "독일은 2025년 약 12억 유로 규모로 이 지역 최대의 식물성 음료 시장입니다."),
    "ko_long": ("ko", "세 시장 모두에서 소비자들은 카테고리를 떠나기보다는 카테고리 안에서 더 저렴한 제품으로 "
                      "옮겨가고 있습니다. 유통업체는 자체 브랜드 제품군을 확대했고, 브랜드는 바리스타 제품과 "
                      "외식 채널을 통해 점유율을 지키고 있습니다. 독일과 네덜란드에서는 우유와의 가격 차이가 "
                      "리터당 20센트 미만으로 줄었습니다."),
    "ko_reco": ("ko", "권고: 프랑스 소매 확대에 앞서 네덜란드 외식 채널을 우선하십시오."),
}

# (text key, nominal width, font size, line height as a multiple of the size, letter spacing px, mode)
# modes: loose = one spare line; exact = height of exactly the estimated lines; exact+ / short =
# a quarter line more / less; tight = one line less; over = clearly too small;
# wnarrow / wwide = height for n lines and the width 1.5 % under / over the estimated minimum
# width for n lines; one-: / one+: one-line box, width the estimated text width times (1 +/- d).
CASES = [
    ("en_title", None, 40, 1.2, -0.8, "one-:0.03"),
    ("en_title", None, 40, 1.2, -0.8, "one+:0.03"),
    ("en_kicker", None, 14, 1.4, 2.4, "one+:0.01"),
    ("en_kicker", None, 14, 1.4, 2.4, "one-:0.01"),
    ("en_date", None, 20, 1.4, 0, "one+:0.06"),
    ("en_markets", 452, 20, 1.4, 0, "exact"),
    ("en_sum", 496, 18, 1.5, 0, "exact"),
    ("en_sum", 496, 18, 1.5, 0, "tight"),
    ("en_sum", 300, 15, 1.4667, 0, "wnarrow"),
    ("en_claim", 488, 15, 1.4667, 0, "exact+"),
    ("en_claim", 824, 20, 1.65, 0, "short"),
    ("en_claim", 640, 14, 1.5714, 0, "wwide"),
    ("en_long", 456, 13, 1.3846, 0, "exact"),
    ("en_long", 1032, 16, 1.5, 0, "tight"),
    ("en_long", 368, 12, 1.5, 0, "over"),
    ("en_long", 600, 11, 1.4545, 0, "wwide"),
    ("en_reco", 640, 14, 1.5714, 0, "wnarrow"),
    ("en_banner", 436, 16, 1.5, 0, "exact"),
    ("en_banner", 888, 15, 1.6, 0, "one-:0.02"),
    ("en_disagree", 456, 13, 1.3846, 0, "exact"),
    ("en_disagree", 700, 12, 1.5, 0, "loose"),
    ("en_figures", 304, 13, 1.5385, 0, "exact"),
    ("en_question", 488, 18, 1.3333, 0, "exact"),
    ("en_question", 640, 18, 1.4444, 0, "wnarrow"),
    ("en_providers", 416, 12, 1.5, 0, "wwide"),
    ("en_providers", 340, 11, 1.3636, 0, "short"),
    ("de_title", None, 36, 1.2, -0.5, "one-:0.015"),
    ("de_title", 560, 36, 1.2, -0.5, "loose"),
    ("de_compound", 264, 18, 1.3333, 0, "exact"),
    ("de_compound", 180, 13, 1.5385, 0, "exact"),
    ("de_compound", None, 24, 1.25, 0, "one+:0.01"),
    ("de_sum", 496, 18, 1.5, 0, "exact+"),
    ("de_sum", 300, 14, 1.4286, 0, "wnarrow"),
    ("de_claim", 640, 14, 1.5714, 0, "exact"),
    ("de_claim", 824, 20, 1.65, 0, "tight"),
    ("de_compounds", 304, 13, 1.5385, 0, "exact"),
    ("de_compounds", 220, 16, 1.5, 0, "wwide"),
    ("de_long", 1032, 16, 1.5, 0, "exact"),
    ("de_long", 456, 13, 1.3846, 0, "short"),
    ("de_long", 180, 9, 1.3333, 0, "exact"),
    ("de_reco", 488, 15, 1.4667, 0, "wnarrow"),
    ("de_banner", 436, 16, 1.5, 0, "exact"),
    ("de_index", 320, 22, 1.2727, 0, "wwide"),
    ("fr_title", None, 32, 1.25, -0.32, "one+:0.02"),
    ("fr_title", 760, 32, 1.25, -0.32, "exact"),
    ("fr_sum", 496, 18, 1.5, 0, "tight"),
    ("fr_sum", 420, 16, 1.5, 0, "wnarrow"),
    ("fr_long", 640, 14, 1.5714, 0, "exact+"),
    ("fr_long", 936, 20, 1.5, 0, "exact"),
    ("fr_long", 300, 10, 1.4, 0.2, "short"),
    ("fr_reco", 824, 20, 1.65, 0, "wwide"),
    ("fr_disagree", 904, 12, 1.1667, 0, "one-:0.005"),
    ("fr_head", None, 24, 1.3333, 0, "one+:0.005"),
    ("nl_title", None, 28, 1.2857, 0, "one-:0.01"),
    ("nl_sum", 496, 18, 1.5, 0, "exact"),
    ("nl_claim", 488, 15, 1.4667, 0, "wnarrow"),
    ("nl_claim", 1016, 16, 1.5, 0, "exact"),
    ("nl_compound", 264, 13, 1.5385, 0, "exact"),
    ("nl_compound", 220, 16, 1.25, 0.5, "tight"),
    ("nl_long", 640, 14, 1.5714, 0, "wwide"),
    ("nl_long", 368, 12, 1.3333, 0, "over"),
    ("ja_title", None, 40, 1.2, 0, "one+:0.01"),
    ("ja_title", None, 40, 1.2, 0, "one-:0.01"),
    ("ja_sum", 496, 18, 1.5, 0, "exact"),
    ("ja_sum", 300, 16, 1.5, 0, "wnarrow"),
    ("ja_long", 456, 13, 1.5385, 0, "exact"),
    ("ja_long", 640, 14, 1.7143, 0.5, "tight"),
    ("ja_reco", 368, 14, 1.5714, 0, "wwide"),
    ("zh_title", None, 36, 1.3333, 0, "one-:0.02"),
    ("zh_sum", 440, 18, 1.5, 0, "exact"),
    ("zh_long", 600, 16, 1.625, 0, "exact+"),
    ("zh_long", 304, 12, 1.5, 0, "short"),
    ("zh_reco", 400, 20, 1.4, 0, "wnarrow"),
    ("ko_title", None, 32, 1.25, 0, "one+:0.02"),
    ("ko_sum", 496, 18, 1.5, 0, "exact"),
    ("ko_sum", 264, 13, 1.5385, 0, "wwide"),
    ("ko_long", 640, 15, 1.6, 0, "exact"),
    ("ko_long", 936, 20, 1.5, 0, "tight"),
    ("ko_reco", 420, 16, 1.5, 0, "wnarrow"),
    ("en_long", 1728, 40, 1.2, -0.8, "exact"),
    ("de_long", 2000, 9, 1.3333, 0, "loose"),
]


def _r(v: float) -> float:
    """Round to 0.5 px, as box sizes in Figma usually are."""
    return round(v * 2) / 2


def fit_cases():
    out = []
    for k, (key, width, size, lhf, ls, mode) in enumerate(CASES, 1):
        lang, s = TEXTS[key]
        lh = _r(size * lhf)
        if mode.startswith("one"):
            d = float(mode.split(":")[1])
            tw = one_line_width(s, size, ls)
            w = _r(tw * (1 + d) if mode.startswith("one+") else tw * (1 - d))
            h = lh
        else:
            w = width
            n = est_lines(s, w, size, ls)
            if mode == "loose":
                h = (n + 1) * lh + 4
            elif mode == "exact":
                h = n * lh
            elif mode == "exact+":
                h = n * lh + _r(lh * 0.25)
            elif mode == "short":
                h = n * lh - _r(lh * 0.25)
            elif mode == "tight":
                h = max(1, n - 1) * lh
            elif mode == "over":
                h = max(1, n // 2) * lh
            elif mode in ("wnarrow", "wwide"):
                wmin = min_width_for(s, n, size, ls, w)
                w = _r(wmin * (0.985 if mode == "wnarrow" else 1.015))
                h = n * lh
            else:
                raise ValueError(mode)
        out.append({"id": f"fit-{k:03d}-{lang}", "text": s, "width": w, "height": _r(h),
                    "font_size": size, "line_height": lh, "letter_spacing": ls, "language": lang})
    return out


# --------------------------------------------------------------------------------------------
# Validation against the official schema
# --------------------------------------------------------------------------------------------


def _rewrite_discriminators(x):
    if isinstance(x, dict):
        x = {k: _rewrite_discriminators(v) for k, v in x.items()}
        if "oneOf" in x and "discriminator" in x:
            prop = x["discriminator"]["propertyName"]
            mapping = x["discriminator"]["mapping"]
            rest = {k: v for k, v in x.items() if k not in ("oneOf", "discriminator")}
            rest.update({
                "type": "object",
                "required": [prop],
                "properties": {prop: {"enum": sorted(mapping)}},
                "allOf": [{"if": {"properties": {prop: {"const": key}}, "required": [prop]},
                           "then": {"$ref": ref}} for key, ref in mapping.items()],
            })
            return rest
        return x
    if isinstance(x, list):
        return [_rewrite_discriminators(v) for v in x]
    return x


def validate(docs: dict) -> bool:
    try:
        import jsonschema
        import yaml
    except ImportError as e:  # pragma: no cover
        print(f"validation skipped: {e}")
        return True
    if not SPEC.exists():
        print(f"validation skipped: {SPEC} not found")
        return True
    spec = yaml.safe_load(SPEC.read_text())
    schemas = _rewrite_discriminators(spec["components"]["schemas"])
    root = copy.deepcopy(spec["components"]["responses"]["GetFileResponse"]["content"]
                         ["application/json"]["schema"])
    root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    root["components"] = {"schemas": schemas}
    cls = jsonschema.Draft202012Validator
    validator = cls(root, format_checker=cls.FORMAT_CHECKER)

    def declared(name):
        s = spec["components"]["schemas"][name]
        out = set()
        for part in s.get("allOf", [s]):
            if "$ref" in part:
                out |= declared(part["$ref"].split("/")[-1])
            else:
                out |= set(part.get("properties", {}))
        return out

    node_schema = {"DOCUMENT": "DocumentNode", "CANVAS": "CanvasNode", "FRAME": "FrameNode",
                   "GROUP": "GroupNode", "RECTANGLE": "RectangleNode", "TEXT": "TextNode",
                   "ELLIPSE": "EllipseNode"}
    style_keys = declared("TypeStyle")
    paint_keys = {"SOLID": declared("SolidPaint")}
    effect_keys = {"DROP_SHADOW": declared("DropShadowEffect")}
    file_keys = set(root["properties"])

    ok = True
    for fname, doc in docs.items():
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors[:20]:
            print(f"{fname}: SCHEMA {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")
        strict = []
        strict += [f"file key {k}" for k in doc if k not in file_keys]

        def walk(n):
            t = n["type"]
            if t not in node_schema:
                strict.append(f"{n['id']}: node type {t} not covered")
                return
            allowed = declared(node_schema[t])
            strict.extend(f"{n['id']} {n['name']}: undeclared key {k}" for k in n if k not in allowed)
            for k in n.get("style", {}):
                if k not in style_keys:
                    strict.append(f"{n['id']}: undeclared style key {k}")
            for p in n.get("fills", []) + n.get("strokes", []):
                strict.extend(f"{n['id']}: paint key {k}" for k in p if k not in paint_keys[p["type"]])
            for e in n.get("effects", []):
                strict.extend(f"{n['id']}: effect key {k}" for k in e if k not in effect_keys[e["type"]])
            for c in n.get("children", []):
                walk(c)

        walk(doc["document"])
        ids = []

        def collect(n):
            ids.append(n["id"])
            for c in n.get("children", []):
                collect(c)

        collect(doc["document"])
        if len(ids) != len(set(ids)):
            strict.append("duplicate node ids")
        for s in strict[:20]:
            print(f"{fname}: STRICT {s}")
        status = "valid" if not errors and not strict else f"{len(errors)} schema errors, {len(strict)} strict issues"
        print(f"{fname}: {status} ({len(ids)} nodes) against GetFileResponse of {SPEC.name} "
              f"(Figma API {spec['info']['version']})")
        ok = ok and not errors and not strict
    return ok


def main(argv):
    docs = {"template-a.json": template_a(), "template-b.json": template_b(),
            "template-c.json": template_c()}
    invalid = {"template-a.json": A_INVALID, "template-b.json": B_INVALID,
               "template-c.json": C_INVALID}
    expected = {}
    for name, doc in docs.items():
        (HERE / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        expected[name] = expected_for(doc, invalid[name])
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    cases = fit_cases()
    (HERE / "fit.json").write_text(json.dumps(cases, indent=2, ensure_ascii=False) + "\n")
    for name, e in expected.items():
        print(f"{name}: {len(e['fields'])} fields, {len(e['invalid'])} invalid")
    print(f"fit.json: {len(cases)} cases")
    if "--no-validate" not in argv:
        if not validate(docs):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
