"""The market-data server's offline logic: country facts from packaged data and the labeled sample dataset."""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pycountry
from babel import Locale
from babel.languages import get_official_languages
from babel.numbers import get_territory_currencies
from countryinfo import CountryInfo
from pydantic import BaseModel, Field

from schemas import InvalidInput
from schemas.profiles import RatesTable

__all__ = [
    "BrandLookup",
    "BrandPresence",
    "Competitor",
    "CompetitorList",
    "CountryFacts",
    "MarketSize",
    "UnknownCountry",
    "brand_lookup",
    "competitors",
    "country_facts",
    "dataset_notice",
    "market_size",
    "normalize_country",
    "rates_table",
]

SAMPLE_NOTE = "sample dataset (illustrative, not real market figures)"
ESTIMATE_NOTE = "sample estimate: population x sample per-capita spend (illustrative, not real market figures)"
FACTS_SOURCE = "offline packages pycountry, countryinfo and babel (figures may be dated)"
_EN = Locale("en")


class UnknownCountry(InvalidInput, ValueError):
    """The country is not an ISO 3166-1 code."""


class CountryFacts(BaseModel):
    """Basic facts about a country from offline packages."""

    country: str = Field(description="ISO 3166-1 alpha-2 code.")
    alpha3: str
    name: str
    capital: str | None = None
    population: int | None = None
    area_km2: float | None = None
    currencies: list[str] = Field(default_factory=list, description="ISO 4217 codes in use.")
    languages: list[str] = Field(default_factory=list, description="Official languages (English names).")
    region: str | None = None
    subregion: str | None = None
    source: str = FACTS_SOURCE


class MarketSize(BaseModel):
    """Size and growth of one product category in one country (sample data)."""

    country: str
    country_name: str
    category: str = Field(description="Category as requested.")
    matched_category: str | None = Field(default=None, description="Sample category it matched, if any.")
    available: bool
    year: int
    value_eur_m: float | None = Field(default=None, description="Market value in EUR millions.")
    growth_pct: float | None = Field(default=None, description="Annual growth in percent.")
    basis: Literal["sample dataset", "sample estimate", "unavailable"]
    note: str


class Competitor(BaseModel):
    """One (fictional) brand in the sample dataset."""

    name: str
    share_pct: float = Field(description="Share of category value in percent.")
    price_eur: float = Field(description="Typical shelf price in EUR.")


class CompetitorList(BaseModel):
    """Leading brands of a category in a country (sample data)."""

    country: str
    country_name: str
    category: str
    matched_category: str | None = None
    available: bool
    year: int
    competitors: list[Competitor] = Field(default_factory=list)
    note: str


class BrandPresence(BaseModel):
    """Where a brand appears in the sample dataset: its share and price in one country."""

    brand: str = Field(description="The brand as the dataset spells it.")
    country: str
    country_name: str
    share_pct: float
    price_eur: float


class BrandLookup(BaseModel):
    """What the sample dataset holds on one brand named in a brief, in the countries asked about."""

    name: str = Field(description="The brand as asked.")
    category: str
    matched_category: str | None = None
    found: bool
    year: int
    countries: list[str] = Field(description="The countries searched (ISO 3166-1 alpha-2).")
    markets: list[BrandPresence] = Field(default_factory=list)
    note: str


@lru_cache(maxsize=1)
def _dataset() -> dict[str, Any]:
    # MKA_MARKET_DATA_FILE swaps in another dataset of the same shape (operators' own data, tests).
    override = os.environ.get("MKA_MARKET_DATA_FILE")
    if override:
        text = Path(override).read_text(encoding="utf-8")
    else:
        text = resources.files("actors.mcp").joinpath("data/market_sample.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def dataset_notice() -> dict[str, Any]:
    """What the sample dataset is and covers (served as a resource)."""
    data = _dataset()
    return {
        "notice": data["_notice"],
        "dataset": data["dataset"],
        "version": data["version"],
        "year": data["year"],
        "countries": sorted(data["markets"]),
        "categories": list(data["categories"]),
        "units": data["units"],
        "fallback": data["estimate"]["_notice"],
    }


def _record(country: str) -> Any:
    """The pycountry record of an alpha-2 or alpha-3 code, or raise `UnknownCountry`."""
    code = country.strip().upper()
    record = None
    if len(code) == 2:
        record = pycountry.countries.get(alpha_2=code)
    elif len(code) == 3:
        record = pycountry.countries.get(alpha_3=code)
    if record is None:
        raise UnknownCountry(f"unknown country {country!r}: expected an ISO 3166-1 alpha-2 code such as 'DE'")
    return record


def normalize_country(country: str) -> str:
    """Return the alpha-2 code for an alpha-2 or alpha-3 code, or raise `UnknownCountry`."""
    return str(_record(country).alpha_2)


def _country_name(code: str) -> str:
    return str(_EN.territories.get(code) or _record(code).name)


def country_facts(country: str) -> CountryFacts:
    """Facts about a country: name, capital, population, area, currencies, languages, region."""
    record = _record(country)
    code = str(record.alpha_2)
    try:
        info: dict[str, Any] = dict(CountryInfo(code).info() or {})
    except (KeyError, AttributeError, ValueError):
        info = {}
    languages = [_EN.languages.get(lang, lang) for lang in get_official_languages(code)]
    currencies = list(get_territory_currencies(code)) or list(info.get("currencies") or [])
    area = info.get("area")
    return CountryFacts(
        country=code,
        alpha3=str(record.alpha_3),
        name=_country_name(code),
        capital=info.get("capital") or None,
        population=int(info["population"]) if info.get("population") else None,
        area_km2=float(area) if area else None,
        currencies=currencies,
        languages=languages,
        region=info.get("region") or None,
        subregion=info.get("subregion") or None,
    )


def _match_category(category: str) -> str | None:
    data = _dataset()
    text = re.sub(r"[\s_-]+", " ", category.casefold()).strip()
    names = {name: name for name in data["categories"]}
    names.update({re.sub(r"[\s_-]+", " ", alias): target for alias, target in data["aliases"].items()})
    if text in names:
        return str(names[text])
    for key in sorted(names, key=len, reverse=True):
        if re.search(rf"\b{re.escape(key)}\b", text):
            return str(names[key])
    return None


def _jitter(*parts: str) -> float:
    """A deterministic number in [0, 1) from the parts (stable across processes, unlike `hash`)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def market_size(country: str, category: str) -> MarketSize:
    """Market value and growth of a category in a country: sample figures, else a labeled estimate."""
    code = normalize_country(country)
    data = _dataset()
    matched = _match_category(category)
    base = {"country": code, "country_name": _country_name(code), "category": category, "year": data["year"]}
    row = data["markets"].get(code, {}).get(matched or "")
    if row is not None:
        return MarketSize(
            **base,
            matched_category=matched,
            available=True,
            value_eur_m=row["value_eur_m"],
            growth_pct=row["growth_pct"],
            basis="sample dataset",
            note=SAMPLE_NOTE,
        )
    population = country_facts(code).population
    if not population:
        note = f"no sample data and no population figure for {code}"
        return MarketSize(**base, matched_category=matched, available=False, basis="unavailable", note=note)
    per_capita = data["estimate"]["per_capita_eur"][matched or "general"]
    scale = 0.6 + 0.8 * _jitter(code, matched or "general")
    return MarketSize(
        **base,
        matched_category=matched,
        available=True,
        value_eur_m=round(population * per_capita * scale / 1e6, 1),
        growth_pct=round(1.0 + 6.0 * _jitter(code, matched or "general", "growth"), 1),
        basis="sample estimate",
        note=ESTIMATE_NOTE,
    )


def competitors(country: str, category: str) -> CompetitorList:
    """Leading (fictional) brands with shares and price points; unavailable outside the sample."""
    code = normalize_country(country)
    data = _dataset()
    matched = _match_category(category)
    row = data["markets"].get(code, {}).get(matched or "")
    base = {"country": code, "country_name": _country_name(code), "category": category, "year": data["year"]}
    if row is None:
        note = f"no sample competitor data for {code} / {category!r}"
        return CompetitorList(**base, matched_category=matched, available=False, note=note)
    brands = sorted(
        (Competitor.model_validate(item) for item in row["competitors"]), key=lambda c: (-c.share_pct, c.name)
    )
    return CompetitorList(**base, matched_category=matched, available=True, competitors=brands, note=SAMPLE_NOTE)


def _brand_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip()


def brand_lookup(name: str, category: str, countries: list[str]) -> BrandLookup:
    """Look a brand up by name (case and punctuation aside) in the sample's competitor lists of some countries."""
    codes = [normalize_country(c) for c in countries] or sorted(_dataset()["markets"])
    data = _dataset()
    matched = _match_category(category)
    wanted = _brand_key(name)
    found: list[BrandPresence] = []
    for code in codes:
        row = data["markets"].get(code, {}).get(matched or "")
        for item in (row or {}).get("competitors", []):
            if _brand_key(item["name"]) == wanted:
                found.append(BrandPresence(brand=item["name"], country=code, country_name=_country_name(code),
                                           share_pct=item["share_pct"], price_eur=item["price_eur"]))
    where = ", ".join(codes)
    note = (SAMPLE_NOTE if found else
            f"the sample dataset lists no {matched or category or 'such'} brand named {name!r} in {where}")
    return BrandLookup(name=name, category=category, matched_category=matched, found=bool(found),
                       year=data["year"], countries=codes, markets=found, note=note)


@lru_cache(maxsize=1)
def rates_table() -> RatesTable:
    """The dated exchange-rate table (bundled, or `MKA_RATES_FILE`); never fetched live."""
    override = os.environ.get("MKA_RATES_FILE")
    if override:
        text = Path(override).read_text(encoding="utf-8")
    else:
        text = resources.files("actors.mcp").joinpath("data/rates.json").read_text(encoding="utf-8")
    return RatesTable.model_validate_json(text)
