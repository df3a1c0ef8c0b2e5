"""Localization contracts: what a translating provider is asked and answers, and a localized report's content."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.answers import Usage
from schemas.profiles import Formality, Holiday, LegalNote

__all__ = [
    "Conversion",
    "LocalizeOutput",
    "LocalizedReport",
    "MarketAdaptation",
    "Segment",
    "TranslationAttempt",
    "TranslationMode",
    "TranslationRequest",
    "TranslationResult",
]

TranslationMode = Literal["echo", "pseudo", "mangle", "error", "unsupported"]


class Segment(BaseModel):
    """One piece of generated text to translate, with the tokens that must come back unchanged."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    protected: list[str] = Field(default_factory=list, description="Placeholders, glossary terms, numbers, ids.")


class TranslationRequest(BaseModel):
    """One translation call: pseudonymized generated text only, never the brief's raw fields."""

    job_id: str
    provider: str
    source_language: str = Field(description="BCP 47 language of the text, e.g. en.")
    target_locale: str = Field(description="e.g. de_DE.")
    target_language: str = Field(description="The target language's English name, e.g. German.")
    formality: str = Field(default="", description="How to address the reader, e.g. 'formal (Sie)'.")
    glossary: list[str] = Field(default_factory=list, description="Terms kept exactly as written.")
    segments: list[Segment]
    problems: list[str] = Field(default_factory=list, description="What the previous attempt broke (a retry).")
    mode: TranslationMode | None = Field(default=None, description="Stub providers' scripted behaviour.")


class TranslationResult(BaseModel):
    """What a provider returned: translated segments by id, or why it could not."""

    provider: str
    model: str
    status: Literal["ok", "error", "unsupported"]
    error: str | None = None
    segments: dict[str, str] = Field(default_factory=dict)
    latency_s: float = 0.0
    usage: Usage | None = None


class TranslationAttempt(BaseModel):
    """One call of the localize step's retry-and-fallback walk (also announced as an event)."""

    provider: str
    attempt: int = Field(ge=1)
    outcome: Literal["ok", "partial", "rejected", "error", "unsupported"]
    accepted: int = Field(default=0, ge=0, description="Segments that passed the preservation check.")
    problems: list[str] = Field(default_factory=list, description="Problem codes, never text.")


class Conversion(BaseModel):
    """A key figure converted into the market's currency at a dated rate."""

    label: str = Field(description="What the figure is: 'market size DE'.")
    market: str
    amount: float
    currency: str
    converted: float
    to_currency: str


class MarketAdaptation(BaseModel):
    """What a market adds to its localized report: legal notes to check, holidays, converted figures."""

    market: str
    notes: list[LegalNote] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list, description="Public holidays in the launch window.")
    window_days: int = 90
    conversions: list[Conversion] = Field(default_factory=list)
    rates_date: date | None = None
    rates_source: str | None = None
    formality: Formality | None = None


class LocalizedReport(BaseModel):
    """A localized report's content: the translations of the generated text and the market's adaptation."""

    locale: str
    language: str = Field(description="BCP 47 language tag, e.g. de.")
    rtl: bool = False
    status: Literal["translated", "partial", "untranslated"]
    reason: str = Field(default="", description="Why text stayed in the source language.")
    translated_by: str | None = None
    translations: dict[str, str] = Field(default_factory=dict, description="Source text -> translated text.")
    attempts: list[TranslationAttempt] = Field(default_factory=list)
    adaptation: MarketAdaptation | None = None


class LocalizeOutput(BaseModel):
    """The localize step's checkpoint: one localized report per wanted locale (none when the brief wants none)."""

    source_language: str = "en"
    reports: list[LocalizedReport] = Field(default_factory=list)
