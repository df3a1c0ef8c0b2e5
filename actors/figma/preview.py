"""A preview of a filled template without Figma: the plan applied to a copy of the layers, drawn as SVG (pure).

It draws what our templates use: FRAME, GROUP, COMPONENT/INSTANCE, RECTANGLE and ELLIPSE with
solid and image fills, strokes and corner radius, TEXT with font size, weight, colour, alignment
and line height (wrapped by the same estimate as the overflow check), and visibility. Other
layer types are drawn as their solid fills, or skipped. Fonts are the viewer's: the preview shows
content and layout, not Figma's exact typesetting. Clones and texts that grow push their frame's
height (as "hug contents" would), never the layers beside them.
"""

from __future__ import annotations

import copy
from html import escape
from typing import Any

from actors.figma.plan import text_style, wrap
from schemas.figma import FillPlan

__all__ = ["apply_plan", "render_svg", "svg_to_png"]

_SHAPES = ("FRAME", "COMPONENT", "INSTANCE", "RECTANGLE", "ELLIPSE", "SECTION", "COMPONENT_SET")


def _index(roots: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def visit(node: dict[str, Any]) -> None:
        out[node["id"]] = node
        for child in node.get("children") or []:
            visit(child)

    for root in roots:
        visit(root)
    return out


def _shift(node: dict[str, Any], dx: float, dy: float, suffix: str) -> None:
    node["id"] = f"{node['id']}{suffix}"
    for key in ("absoluteBoundingBox", "absoluteRenderBounds"):
        if isinstance(node.get(key), dict):
            node[key] = {**node[key], "x": node[key]["x"] + dx, "y": node[key]["y"] + dy}
    for child in node.get("children") or []:
        _shift(child, dx, dy, suffix)


def _apply_one(node: dict[str, Any], kind: str, value: Any) -> None:
    if kind == "text":
        node["characters"] = str(value)
    elif kind == "visibility":
        node["visible"] = bool(value)
    elif kind == "fill":
        node["fills"] = [{"type": "SOLID", "blendMode": "NORMAL", "color": value}]
    elif kind == "image":
        node["fills"] = [{"type": "IMAGE", "blendMode": "NORMAL", "scaleMode": value.get("scale_mode", "FIT"),
                          "imageRef": value["name"], "_data": value.get("data", ""),
                          "_type": value.get("content_type", "image/png")}]


def apply_plan(roots: list[dict[str, Any]], plan: FillPlan) -> list[dict[str, Any]]:
    """A copy of the template's frames with the plan applied, as the plugin applies it (ids of unknown layers are
    skipped, as the plugin reports them)."""
    roots = copy.deepcopy(roots)
    index = _index(roots)
    parents = {id(c): n for n in index.values() for c in n.get("children") or []}
    for rep in plan.replacements:
        node = index.get(rep.node_id)
        if node is None:
            continue
        if rep.kind != "clone":
            _apply_one(node, rep.kind, rep.value)
            continue
        proto = index.get(rep.value["prototype"])
        if proto is None or id(proto) not in parents:
            continue
        group = parents[id(proto)]
        count, offset = int(rep.value["count"]), rep.value["offset"]
        copies = []
        for n in range(count):
            item = copy.deepcopy(proto)
            inner = _index([item])
            for change in rep.value["items"][n]:
                target = inner.get(change["node_id"])
                if target is not None:
                    _apply_one(target, change["kind"], change["value"])
            _shift(item, offset["x"] * n, offset["y"] * n, f";{n + 1}")
            copies.append(item)
        if not copies:
            hidden = copy.deepcopy(proto)
            hidden["visible"] = False
            copies = [hidden]
        at = group["children"].index(proto)
        group["children"][at:at + 1] = copies
    for root in roots:
        _grow(root)
    return roots


def _bottom(node: dict[str, Any]) -> float:
    box = node.get("absoluteBoundingBox") or {}
    return float(box.get("y", 0)) + float(box.get("height", 0))


def _grow(node: dict[str, Any]) -> None:
    """Texts that resize with their content get their wrapped height; containers grow to hold their children."""
    if node.get("visible") is False:
        return
    box = node.get("absoluteBoundingBox")
    if node.get("type") == "TEXT" and box and (node.get("style") or {}).get("textAutoResize") == "HEIGHT":
        size, line, spacing = text_style(node)
        lines = len(wrap(str(node.get("characters", "")), float(box["width"]), size, spacing))
        node["absoluteBoundingBox"] = {**box, "height": max(float(box["height"]), lines * line)}
    children = [c for c in node.get("children") or [] if c.get("visible") is not False]
    for child in children:
        _grow(child)
    if box and children and node.get("type") in _SHAPES + ("GROUP",):
        bottom = max(_bottom(c) for c in children)
        pad = 0.0 if node.get("type") == "GROUP" else float(node.get("paddingBottom") or 0)
        if bottom + pad > _bottom(node):
            node["absoluteBoundingBox"] = {**node["absoluteBoundingBox"],
                                           "height": bottom + pad - float(node["absoluteBoundingBox"]["y"])}


def _rgba(colour: dict[str, Any], opacity: float = 1.0) -> tuple[str, float]:
    r, g, b = (max(0, min(255, round(float(colour.get(k, 0)) * 255))) for k in ("r", "g", "b"))
    return f"#{r:02x}{g:02x}{b:02x}", float(colour.get("a", 1.0)) * opacity


class _Svg:
    def __init__(self, ox: float, oy: float) -> None:
        self.ox, self.oy = ox, oy
        self.parts: list[str] = []
        self.clips = 0

    def box(self, node: dict[str, Any]) -> tuple[float, float, float, float]:
        b = node.get("absoluteBoundingBox") or {}
        return (float(b.get("x", 0)) - self.ox, float(b.get("y", 0)) - self.oy, float(b.get("width", 0)),
                float(b.get("height", 0)))

    def fills(self, node: dict[str, Any]) -> None:
        x, y, w, h = self.box(node)
        radius = float(node.get("cornerRadius") or 0)
        shape = "ellipse" if node.get("type") == "ELLIPSE" else "rect"
        attrs = f'data-node="{escape(node["id"])}" data-name="{escape(str(node.get("name", "")))}"'
        for paint in node.get("fills") or []:
            if paint.get("visible") is False:
                continue
            if paint.get("type") == "SOLID":
                colour, alpha = _rgba(paint.get("color") or {}, float(paint.get("opacity", 1.0)))
                if shape == "ellipse":
                    self.parts.append(f'<ellipse {attrs} cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" rx="{w / 2:.1f}" '
                                      f'ry="{h / 2:.1f}" fill="{colour}" fill-opacity="{alpha:.3g}"/>')
                else:
                    self.parts.append(f'<rect {attrs} x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                                      f'rx="{radius:.1f}" fill="{colour}" fill-opacity="{alpha:.3g}"/>')
            elif paint.get("type") == "IMAGE":
                aspect = "xMidYMid slice" if paint.get("scaleMode") == "FILL" else "xMidYMid meet"
                data = paint.get("_data")
                if not data:  # the template's own image (a Figma image hash): not ours to load, a placeholder
                    self.parts.append(f'<rect {attrs} x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                                      f'fill="#dde3ea"/>')
                    continue
                kind = "image/png" if paint.get("_type") != "image/jpeg" else "image/jpeg"
                self.parts.append(f'<image {attrs} data-image="{escape(str(paint.get("imageRef", "")))}" '
                                  f'x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                                  f'preserveAspectRatio="{aspect}" href="data:{kind};base64,{escape(str(data))}"/>')
        strokes = [s for s in node.get("strokes") or [] if s.get("type") == "SOLID" and s.get("visible") is not False]
        if strokes and shape == "rect":
            colour, alpha = _rgba(strokes[0].get("color") or {})
            self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{radius:.1f}" '
                              f'fill="none" stroke="{colour}" stroke-opacity="{alpha:.3g}" '
                              f'stroke-width="{float(node.get("strokeWeight") or 1):.1f}"/>')

    def text(self, node: dict[str, Any]) -> None:
        x, y, w, _h = self.box(node)
        style = node.get("style") or {}
        size, line, spacing = text_style(node)
        solid = next((f for f in node.get("fills") or [] if f.get("type") == "SOLID"), None)
        colour, alpha = _rgba(solid.get("color") or {}) if solid else ("#000000", 1.0)
        align = style.get("textAlignHorizontal", "LEFT")
        anchor, tx = {"CENTER": ("middle", x + w / 2), "RIGHT": ("end", x + w)}.get(align, ("start", x))
        family = escape(str(style.get("fontFamily") or "Inter"))
        lines = wrap(str(node.get("characters", "")), w, size, spacing)
        first = y + (line - size) / 2 + size * 0.8
        spans = "".join(f'<tspan x="{tx:.1f}" y="{first + n * line:.1f}">{escape(text)}</tspan>'
                        for n, text in enumerate(lines))
        self.parts.append(
            f'<text data-node="{escape(node["id"])}" data-name="{escape(str(node.get("name", "")))}" '
            f'font-family="{family}, Noto Sans, DejaVu Sans, sans-serif" font-size="{size:.1f}" '
            f'font-weight="{int(style.get("fontWeight") or 400)}" fill="{colour}" fill-opacity="{alpha:.3g}" '
            f'text-anchor="{anchor}"' + (f' letter-spacing="{spacing:.2f}"' if spacing else "") + f'>{spans}</text>')

    def node(self, node: dict[str, Any]) -> None:
        if node.get("visible") is False:
            return
        kind = node.get("type")
        if kind == "TEXT":
            self.text(node)
            return
        if kind in _SHAPES or node.get("fills"):
            self.fills(node)
        children = node.get("children") or []
        if not children:
            return
        if node.get("clipsContent") and kind in _SHAPES:
            self.clips += 1
            x, y, w, h = self.box(node)
            self.parts.append(f'<clipPath id="clip{self.clips}"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                              f'height="{h:.1f}"/></clipPath><g clip-path="url(#clip{self.clips})">')
            for child in children:
                self.node(child)
            self.parts.append("</g>")
        else:
            for child in children:
                self.node(child)


def render_svg(roots: list[dict[str, Any]], plan: FillPlan | None = None, *, title: str = "") -> str:
    """The frames (with `plan` applied when given) as one standalone SVG document, images embedded."""
    frames = apply_plan(roots, plan) if plan is not None else copy.deepcopy(roots)
    visible = [f for f in frames if f.get("visible") is not False and f.get("absoluteBoundingBox")]
    if not visible:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>\n'
    left = min(float(f["absoluteBoundingBox"]["x"]) for f in visible)
    top = min(float(f["absoluteBoundingBox"]["y"]) for f in visible)
    right = max(float(f["absoluteBoundingBox"]["x"]) + float(f["absoluteBoundingBox"]["width"]) for f in visible)
    bottom = max(_bottom(f) for f in visible)
    svg = _Svg(left, top)
    for frame in visible:
        svg.node(frame)
    width, height = right - left, bottom - top
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.1f} {height:.1f}">')
    label = f"<title>{escape(title)}</title>" if title else ""
    return head + label + "".join(svg.parts) + "</svg>\n"


def svg_to_png(svg: str) -> bytes | None:
    """The preview as PNG when cairosvg is installed (optional); None otherwise."""
    try:
        import cairosvg  # type: ignore[import-untyped]
    except (ImportError, OSError):
        return None
    return bytes(cairosvg.svg2png(bytestring=svg.encode("utf-8")))
