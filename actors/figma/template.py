"""Reading a template in Figma's REST file format: its root frames, its fields and what is wrong with them (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from actors.figma.fields import REPEATS, FieldSpec, fits_node, parse_field, parse_item_field, suggest
from schemas import InvalidInput

__all__ = ["FieldUse", "Scan", "scan_template", "template_name", "template_roots", "walk"]

MAX_NODES = 50_000  # a report template is a few hundred layers; refuse a whole design system


@dataclass
class FieldUse:
    """A field on a layer; a repeated group also has its prototype and the item fields inside it."""

    spec: FieldSpec
    node: dict[str, Any]
    prototype: dict[str, Any] | None = None
    items: list[tuple[FieldSpec, dict[str, Any]]] = field(default_factory=list)


@dataclass
class Scan:
    """What a template holds: usable fields in layer order, unusable `#` layers, and warnings for the designer."""

    fields: list[FieldUse]
    unknown: list[tuple[str, dict[str, Any]]]
    warnings: list[str]

    def names(self) -> list[str]:
        """The fields as the designer wrote them, '#'-prefixed, each once, in layer order (item fields included)."""
        out: list[str] = []
        for use in self.fields:
            for name in [use.spec.name, *(spec.name for spec, _ in use.items)]:
                if f"#{name}" not in out:
                    out.append(f"#{name}")
        return out


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A layer and all layers below it, depth first in layer order."""
    yield node
    for child in node.get("children") or []:
        if isinstance(child, dict):
            yield from walk(child)


def template_name(doc: dict[str, Any]) -> str:
    """The file's name as Figma gives it."""
    return str(doc.get("name") or "template")


def _count_fields(node: dict[str, Any]) -> int:
    return sum(1 for n in walk(node) if str(n.get("name", "")).lstrip().startswith("#"))


def template_roots(doc: Any) -> list[dict[str, Any]]:
    """The frames a template fills: a file's page with the most fields (its top-level layers), or the nodes of a
    `GET /v1/files/:key/nodes` answer; `InvalidInput` for anything that is not Figma's file format."""
    if not isinstance(doc, dict):
        raise InvalidInput("a template must be a Figma file as JSON (GET /v1/files/:key or /nodes)")
    if isinstance(doc.get("nodes"), dict):
        roots = []
        for entry in doc["nodes"].values():  # an id not in the file comes back as null
            if isinstance(entry, dict) and isinstance(entry.get("document"), dict):
                node = entry["document"]
                # A page asked for by its id: its top-level layers are the frames (a page has no bounds).
                roots += [c for c in node.get("children") or [] if isinstance(c, dict)] if node.get("type") == "CANVAS" \
                    else [node]
    elif isinstance(doc.get("document"), dict) and doc["document"].get("type") == "DOCUMENT":
        pages = [p for p in doc["document"].get("children") or [] if isinstance(p, dict)]
        if not pages:
            raise InvalidInput("the Figma file has no page")
        page = max(pages, key=_count_fields)  # the first page with the most fields
        roots = [n for n in page.get("children") or [] if isinstance(n, dict)]
    else:
        raise InvalidInput("not a Figma file: expected a `document` of type DOCUMENT or a `nodes` map "
                           "(the JSON of GET /v1/files/:key or /v1/files/:key/nodes)")
    nodes = sum(1 for root in roots for _ in walk(root))
    if nodes > MAX_NODES:
        raise InvalidInput(f"the template has {nodes} layers; at most {MAX_NODES} are read (use a page or frame)")
    for root in roots:
        for node in walk(root):
            if not isinstance(node.get("id"), str) or not isinstance(node.get("type"), str):
                raise InvalidInput("not a Figma file: a layer has no id or type")
    return roots


def _items(use: FieldUse, prefix: str, warnings: list[str], unknown: list[tuple[str, dict[str, Any]]]) -> None:
    assert use.prototype is not None
    for node in walk(use.prototype):
        name = str(node.get("name", ""))
        if not name.lstrip().startswith("#"):
            continue
        spec = parse_item_field(name, prefix)
        if spec is None:
            unknown.append((name.strip(), node))
            warnings.append(f"layer {name.strip()!r} inside #{use.spec.name} is not an item field; items of "
                            f"#{use.spec.name} have #{prefix}.<part>{suggest(name)}")
        elif not fits_node(spec, str(node.get("type"))):
            unknown.append((name.strip(), node))
            warnings.append(f"#{spec.name} is on a {node.get('type')} layer; text fields need a TEXT layer")
        else:
            use.items.append((spec, node))


def scan_template(roots: list[dict[str, Any]]) -> Scan:
    """The fields of the template's frames, with a warning for each layer that names no usable field."""
    fields: list[FieldUse] = []
    unknown: list[tuple[str, dict[str, Any]]] = []
    warnings: list[str] = []

    def visit(node: dict[str, Any]) -> None:
        name = str(node.get("name", ""))
        if name.lstrip().startswith("#"):
            spec = parse_field(name)
            if spec is None:
                unknown.append((name.strip(), node))
                warnings.append(f"layer {name.strip()!r} is not a field{suggest(name)}")
            elif not fits_node(spec, str(node.get("type"))):
                unknown.append((name.strip(), node))
                need = {"text": "a TEXT layer", "image": "a shape or frame (an image fill)",
                        "repeat": "a frame or group"}[spec.kind]
                warnings.append(f"#{spec.name} is on a {node.get('type')} layer; it needs {need}")
            elif spec.kind == "repeat":
                children = [c for c in node.get("children") or [] if isinstance(c, dict)]
                if not children:
                    unknown.append((name.strip(), node))
                    warnings.append(f"#{spec.name} has no child layer to clone: put one item's design inside it")
                    return
                use = FieldUse(spec, node, prototype=children[0])
                _items(use, REPEATS[spec.parts[0]], warnings, unknown)
                if len(children) > 1:
                    warnings.append(f"#{spec.name}: only its first child is the item prototype; the other "
                                    f"{len(children) - 1} are left as they are")
                fields.append(use)
                return  # the prototype's layers are item fields, not top-level ones
            else:
                fields.append(FieldUse(spec, node))
        for child in node.get("children") or []:
            if isinstance(child, dict):
                visit(child)

    for root in roots:
        visit(root)
    if not fields:
        raise InvalidInput("the template has no fields: name layers #title, #summary.1, #claims[] … "
                           "(see docs/figma.md)" + (f"; unusable: {', '.join(n for n, _ in unknown[:5])}" if unknown else ""))
    return Scan(fields, unknown, warnings)
