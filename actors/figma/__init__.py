"""The Figma export: templates in Figma's file format, the fill plan a plugin applies, and an SVG preview."""

from __future__ import annotations

from actors.figma.export import FigmaRole, egress_view, export_figma, replaced_count

__all__ = ["FigmaRole", "egress_view", "export_figma", "replaced_count"]
