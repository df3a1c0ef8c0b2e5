"""PII classification of schema fields, and the shape of a detected PII entity."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["PiiClass", "PiiEntity", "pii_field", "pii_fields"]

PII_KEY = "x-pii"


class PiiClass(str, Enum):
    """How a field relates to personal data; the egress guard and retention read it."""

    NONE = "none"  # ids, enums, numbers: never personal
    FREE_TEXT = "free_text"  # user or world text that may contain PII: scan before egress
    DIRECT = "direct"  # is personal data itself (an email, a name)
    PSEUDONYMIZED = "pseudonymized"  # placeholders only (<PERSON_1>); safe to send out


class PiiEntity(BaseModel):
    """One PII span found in a text; offsets index the original text."""

    type: str = Field(description="Presidio entity name, e.g. PERSON, EMAIL_ADDRESS.")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    score: float = Field(ge=0.0, le=1.0)


def pii_field(pii: PiiClass, default: Any = ..., **kwargs: Any) -> Any:
    """Return a pydantic `Field` carrying the PII class in its JSON Schema (`x-pii`)."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[PII_KEY] = pii.value
    return Field(default, json_schema_extra=extra, **kwargs)


def pii_fields(model: type[BaseModel], prefix: str = "") -> dict[str, PiiClass]:
    """Map each dotted field path of a model (nested models included) to its PII class."""
    out: dict[str, PiiClass] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        out[path] = PiiClass(extra.get(PII_KEY, PiiClass.NONE.value))
        for inner in _nested_models(info.annotation):
            out.update(pii_fields(inner, prefix=f"{path}."))
    return out


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_nested_models(arg))
    return found
