"""What the PII engine looks for and how sure it must be: entities, per-entity thresholds, id patterns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from actors.pii.recognizers import DEFAULT_ID_PATTERNS, PHONE_REGIONS

__all__ = ["DEFAULT_ENTITIES", "DEFAULT_MIN_SCORES", "PiiConfig"]

DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "LOCATION",  # places and postal addresses
    "URL",  # kept by the policy only when the URL carries an email address
    "EU_VAT_ID",
    "SOCIAL_HANDLE",
    "CUSTOMER_ID",
    # Presidio's predefined national ids and device/wallet ids
    "US_SSN",
    "US_ITIN",
    "US_PASSPORT",
    "UK_NHS",
    "UK_NINO",
    "DATE_OF_BIRTH",
    "DE_TAX_ID",
    "FR_NIR",
    "NL_BSN",
    "PL_PESEL",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "CRYPTO",
    "MAC_ADDRESS",
)
"""Entity names detected by default: Presidio's names, plus EU_VAT_ID, SOCIAL_HANDLE, CUSTOMER_ID, DATE_OF_BIRTH,
DE_TAX_ID, FR_NIR and NL_BSN (Presidio has no recognizers of these)."""

DEFAULT_MIN_SCORES: dict[str, float] = {
    "PERSON": 0.5,
    "LOCATION": 0.5,
    "PHONE_NUMBER": 0.45,
    "CREDIT_CARD": 0.6,
    "IP_ADDRESS": 0.5,
    "URL": 0.5,
    "US_ITIN": 0.5,
    "US_PASSPORT": 0.4,
    "NL_BSN": 0.5,
}
"""Per-entity score thresholds; entities not named here use `PiiConfig.default_min_score`."""


class PiiConfig(BaseModel):
    """Knobs of the PII engine; `from_settings` reads the `MKA_PII_*` settings.

    Example:
        >>> PiiConfig(id_patterns=[r"\\bACME-\\d{6}\\b"]).min_score("PERSON")
        0.5
    """

    model_config = ConfigDict(frozen=True)

    entities: tuple[str, ...] = DEFAULT_ENTITIES
    min_scores: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_MIN_SCORES))
    default_min_score: float = Field(default=0.3, ge=0.0, le=1.0)
    id_patterns: tuple[str, ...] = DEFAULT_ID_PATTERNS
    allow_terms: tuple[str, ...] = Field(default=(), description="Terms never redacted in any job (own brands).")
    phone_regions: tuple[str, ...] = PHONE_REGIONS
    chunk_chars: int = Field(default=4000, ge=200, description="Longer texts are analyzed in sentence-aligned chunks.")
    batch_size: int = Field(default=64, ge=1)

    @field_validator("id_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"id pattern {pattern!r} does not compile: {exc}") from exc
        return patterns

    def min_score(self, entity_type: str) -> float:
        """The threshold a detection of this type must reach."""
        return self.min_scores.get(entity_type, self.default_min_score)

    def key(self) -> str:
        """A stable identity for caching one engine per configuration."""
        return self.model_dump_json()

    @classmethod
    def from_settings(cls, settings: Any) -> PiiConfig:
        """Build from settings (`pii_min_scores`, `pii_id_patterns`, `pii_allow_terms`); unset keeps defaults."""
        values: dict[str, Any] = {}
        scores: Mapping[str, float] | None = getattr(settings, "pii_min_scores", None)
        if scores:
            values["min_scores"] = {**DEFAULT_MIN_SCORES, **scores}
        patterns = getattr(settings, "pii_id_patterns", None)
        if patterns:
            values["id_patterns"] = tuple(patterns)
        terms = getattr(settings, "pii_allow_terms", None)
        if terms:
            values["allow_terms"] = tuple(terms)
        return cls(**values)
