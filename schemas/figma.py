"""The Figma export's contracts: a stored template's description and the fill plan that the plugin applies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "REPLACEMENT_KINDS",
    "TEMPLATE_ID_PATTERN",
    "TEMPLATE_REF_PATTERN",
    "FigmaExport",
    "FigmaRequest",
    "FillPlan",
    "Overflow",
    "PlanSummary",
    "Replacement",
    "TemplateInfo",
]

TEMPLATE_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
TEMPLATE_REF_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}(@[1-9][0-9]{0,5})?$"
"""What a brief's `figma_template` names: a template id, optionally pinned to a version (`report@2`)."""

ReplacementKind = Literal["text", "image", "visibility", "fill", "clone"]
REPLACEMENT_KINDS: tuple[str, ...] = ("text", "image", "visibility", "fill", "clone")


class Replacement(BaseModel):
    """One change to one template layer.

    `value` by kind: text -> the characters; visibility -> true/false; fill -> a solid colour
    `{"r", "g", "b", "a"}` in 0..1 as Figma writes colours; image -> `{"name", "content_type",
    "sha256", "width", "height", "scale_mode", "data"}` (PNG bytes, base64); clone -> `{"prototype",
    "count", "offset": {"x", "y"}, "items": [[replacement, ...], ...]}`, where each item's
    replacements name layers inside the prototype (the plugin maps them onto the item's copy).
    """

    model_config = ConfigDict(extra="forbid")

    node_id: str = Field(description="The template layer's id (as Figma gives it, e.g. 12:34).")
    node_name: str = Field(description="The layer's name, i.e. the field as the designer wrote it (#title).")
    field: str = Field(description="The field the value fills: the layer name without '#', e.g. summary.1.")
    kind: ReplacementKind
    value: Any


class Overflow(BaseModel):
    """A text that, by estimate, does not fit its text box: shown in full all the same, never cut."""

    model_config = ConfigDict(extra="forbid")

    node_id: str
    field: str
    chars: int = Field(ge=0, description="Characters in the text.")
    limit: int = Field(ge=0, description="Characters the box holds by estimate (its size, font size and line height).")


class FillPlan(BaseModel):
    """What the plugin does to a copy of the template so that it shows one job's report in one locale."""

    model_config = ConfigDict(extra="forbid")

    template_id: str
    version: int = Field(ge=1)
    job_id: str
    locale: str
    replacements: list[Replacement] = Field(default_factory=list)
    missing_fields: list[str] = Field(
        default_factory=list, description="Fields the template has but the report has no value for (e.g. #summary.7 "
        "with five summary points): the plan hides their layers, so no sample text passes for a finding.")
    unknown_fields: list[str] = Field(
        default_factory=list, description="Layer names starting with # that the plan cannot use: not a field, or a "
        "field on a layer of the wrong type (a text field on a rectangle).")
    overflow: list[Overflow] = Field(default_factory=list)


class TemplateInfo(BaseModel):
    """A stored template version, as `mka figma templates add|list` print it."""

    template_id: str = Field(pattern=TEMPLATE_ID_PATTERN)
    version: int = Field(ge=1)
    name: str
    project: str
    fields: list[str] = Field(description="The template's fields (#title, #claims[], ...), in layer order.")
    warnings: list[str] = Field(default_factory=list)
    source: str = Field(description="figma:<file key> or upload.")
    sha256: str
    created_at: datetime | None = None


class FigmaRequest(BaseModel):
    """What the report role needs to fill a template for one report (the base one, or a localized one)."""

    report: Any = Field(description="The ReportInput (localized when its `localization` is set).")
    template_id: str
    version: int = Field(ge=1)
    template: dict[str, Any] = Field(description="The template's Figma file JSON.")


class FigmaExport(BaseModel):
    """One locale's export: the fill plan and its SVG preview."""

    locale: str
    plan: FillPlan
    preview: str


class PlanSummary(BaseModel):
    """How one locale's plan went, for the run summary and events."""

    locale: str
    replaced: int = Field(ge=0, description="Layers the plan changes (clones' items included).")
    missing_fields: list[str] = Field(default_factory=list)
    unknown_fields: list[str] = Field(default_factory=list)
    overflow: int = Field(default=0, ge=0, description="Texts that do not fit their box by estimate.")
