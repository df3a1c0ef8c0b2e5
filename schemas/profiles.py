"""Country profiles: the language, formats, holidays and marketing law of one market, and dated exchange rates."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CountryProfile", "Formality", "Holiday", "LegalNote", "LocaleFormats", "ProfileSummary", "RatesTable"]


class LegalNote(BaseModel):
    """A marketing-relevant rule of a market, with a short cited source; `keywords` say when it applies."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    topic: str = Field(min_length=3, max_length=120)
    text: str = Field(min_length=20, max_length=1200)
    source: str = Field(min_length=5, max_length=400, description="Statute, case or code, e.g. CJEU C-422/16.")
    applies: Literal["always", "competitors", "keywords"] = Field(
        default="keywords",
        description="always: every brief; competitors: briefs naming competitors; keywords: briefs or claims "
        "mentioning one of `keywords`.",
    )
    keywords: list[str] = Field(default_factory=list)


class Holiday(BaseModel):
    """A public holiday (from the `holidays` package, named in the market's language where it has one)."""

    date: date
    name: str


class LocaleFormats(BaseModel):
    """Babel's patterns and worked examples for the default locale."""

    decimal_symbol: str
    group_symbol: str
    number_pattern: str
    currency_pattern: str
    date_short: str
    date_long: str
    number_example: str = Field(description="1234567.891 in this locale.")
    currency_example: str = Field(description="1234.5 of the market's currency in this locale.")
    date_example: str = Field(description="A sample date, long form.")


class Formality(BaseModel):
    """How marketing addresses the reader by default: level of formality and the pronoun or form used."""

    model_config = ConfigDict(extra="forbid")

    level: Literal["formal", "informal", "neutral"]
    address: str = Field(min_length=1, max_length=60, description="du/Sie, tu/vous, 'you', ...")


class CountryProfile(BaseModel):
    """One market: languages (BCP 47), default locale, currency, formats, measurement, direction, formality,
    public holidays of the next 12 months and the legal notes a marketer checks before publishing."""

    country: str = Field(pattern=r"^[A-Z]{2}$")
    name: str
    languages: list[str] = Field(min_length=1, description="BCP 47 codes: official, then business-usual.")
    default_locale: str
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    formats: LocaleFormats
    measurement: Literal["metric", "US", "UK"]
    rtl: bool
    formality: Formality
    holidays: list[Holiday]
    legal_notes: list[LegalNote]
    eu: bool = Field(description="An EU member state (EU-wide rules apply).")
    reviewed: date = Field(description="When the curated part (languages, formality, notes) was last reviewed.")
    data_version: int = Field(ge=1, description="Version of the curated data file.")

    def summary(self) -> ProfileSummary:
        """The `mka profiles list` row."""
        return ProfileSummary(country=self.country, name=self.name, default_locale=self.default_locale,
                              languages=self.languages, currency=self.currency)


class ProfileSummary(BaseModel):
    """One row of `mka profiles list --json`."""

    country: str
    name: str
    default_locale: str
    languages: list[str]
    currency: str


class RatesTable(BaseModel):
    """Reference exchange rates on one date: units of each currency per one unit of `base` (never fetched live)."""

    model_config = ConfigDict(extra="forbid")

    date: date
    base: str = Field(pattern=r"^[A-Z]{3}$")
    source: str
    rates: dict[str, float] = Field(min_length=1)

    def convert(self, amount: float, from_currency: str, to_currency: str) -> float | None:
        """`amount` of `from_currency` in `to_currency` at this table's rates; None when either is missing."""
        rate = {**self.rates, self.base: 1.0}
        if from_currency not in rate or to_currency not in rate or rate[from_currency] <= 0:
            return None
        return amount / rate[from_currency] * rate[to_currency]
