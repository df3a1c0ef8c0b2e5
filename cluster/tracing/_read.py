"""Reading a JSON-lines span file back: one trace's spans, nested and rendered as a tree."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["read_spans", "render_span_tree", "span_tree"]

_TREE_HIDDEN_KEYS = frozenset({"mka.job_id", "mka.project", "service.name", "process.pid"})


def read_spans(path: Path, trace_id: str) -> list[dict[str, Any]]:
    """Return the spans of one trace from a JSON-lines span file, ordered by start time."""
    spans: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a torn or foreign line never hides the rest
                if isinstance(record, dict) and record.get("trace_id") == trace_id:
                    spans.append(record)
    except FileNotFoundError:
        return []
    return sorted(spans, key=lambda s: (s.get("start_ns", 0), s.get("name", "")))


def span_tree(spans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Nest spans by parent id: roots (no parent, or parent not in the list) with `children`, by start."""
    ordered = sorted(spans, key=lambda s: (s.get("start_ns", 0), s.get("name", "")))
    nodes = {s["span_id"]: {**s, "children": []} for s in ordered}
    roots: list[dict[str, Any]] = []
    for s in ordered:
        node, parent = nodes[s["span_id"]], s.get("parent_id")
        if parent in nodes and parent != s["span_id"]:
            nodes[parent]["children"].append(node)
        else:
            roots.append(node)
    return roots


def _line(node: Mapping[str, Any], depth: int) -> str:
    attrs = node.get("attributes") or {}
    shown = " ".join(
        f"{k.removeprefix('mka.')}={attrs[k]}" for k in sorted(attrs) if k not in _TREE_HIDDEN_KEYS
    )
    status = "  ERROR" if node.get("status") == "ERROR" else ""
    text = f"{'  ' * depth}{node.get('name')}  {float(node.get('duration_ms', 0.0)):.1f} ms{status}"
    return f"{text}  [{shown}]" if shown else text


def render_span_tree(spans: Sequence[Mapping[str, Any]]) -> str:
    """Render spans as an indented tree, one line each: name, duration in ms, key attributes."""
    lines: list[str] = []

    def walk(node: Mapping[str, Any], depth: int) -> None:
        lines.append(_line(node, depth))
        for child in node["children"]:
            walk(child, depth + 1)

    for root in span_tree(spans):
        walk(root, 0)
    return "\n".join(lines)
