"""Country profiles built from the curated data file plus pycountry, babel and holidays (pure; today is a parameter).

A profile file that is wrong fails loudly at load, naming the market and the field, so a bad edit
never reaches a report: unknown languages and locales, a default locale whose language the market
does not list, a note id that does not exist.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pycountry
import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, get_territory_currencies
from pydantic import ValidationError

from schemas._errors import MkaError
from schemas.profiles import (
    CountryProfile,
    Formality,
    Holiday,
    LegalNote,
    LocaleFormats,
)

__all__ = [
    "PROFILES_FILE",
    "ProfileError",
    "UnknownMarket",
    "all_profiles",
    "country_profile",
    "load_curated",
    "locale_of",
    "markets",
]

PROFILES_FILE = Path(__file__).resolve().parent / "data" / "profiles.yaml"
_MEASUREMENT = {"US": "US", "LR": "US", "MM": "US", "GB": "UK"}  # CLDR measurementSystem; metric elsewhere
_SAMPLE_DATE = date(2026, 3, 14)


class ProfileError(MkaError):
    """The curated profile data is invalid; the message names the market and the field."""

    code = "invalid_profile_data"


class UnknownMarket(MkaError):
    """No profile exists for the country code."""

    code = "unknown_market"


def locale_of(tag: str) -> Locale:
    """A babel Locale from `de_DE`, `de-DE` or `zh-Hans`; raises ValueError naming the tag."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown locale {tag!r}") from exc


def _fail(source: str, where: str, message: str) -> ProfileError:
    return ProfileError(f"{source}: {where}: {message}")


def _curated_notes(raw: Any, source: str) -> dict[str, LegalNote]:
    if not isinstance(raw, dict):
        raise _fail(source, "notes", "must be a mapping of note id to note")
    notes = {}
    for note_id, body in raw.items():
        try:
            notes[note_id] = LegalNote.model_validate({"id": note_id, **(body or {})})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise _fail(source, f"notes.{note_id}.{field}", first["msg"]) from None
        if notes[note_id].applies == "keywords" and not notes[note_id].keywords:
            raise _fail(source, f"notes.{note_id}.keywords", "a keywords note needs at least one keyword")
    return notes


def _check_market(code: str, body: dict[str, Any], notes: dict[str, LegalNote], source: str) -> None:
    where = f"markets.{code}"
    if pycountry.countries.get(alpha_2=code) is None:
        raise _fail(source, where, f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    languages = body.get("languages")
    if not isinstance(languages, list) or not languages:
        raise _fail(source, f"{where}.languages", "a non-empty list of BCP 47 language codes is required")
    for tag in languages:
        try:
            locale_of(str(tag))
        except ValueError:
            raise _fail(source, f"{where}.languages", f"{tag!r} is not a language babel knows") from None
    default = str(body.get("default_locale", ""))
    try:
        locale = locale_of(default)
    except ValueError:
        raise _fail(source, f"{where}.default_locale", f"{default!r} is not a locale babel knows") from None
    if locale.territory not in (code, None):
        raise _fail(source, f"{where}.default_locale", f"{default!r} is not a locale of {code}")
    if locale.language not in {locale_of(str(t)).language for t in languages}:
        raise _fail(source, f"{where}.default_locale", f"its language {locale.language!r} is not in languages")
    try:
        Formality.model_validate(body.get("formality"))
    except ValidationError as exc:
        raise _fail(source, f"{where}.formality", exc.errors()[0]["msg"]) from None
    for note_id in body.get("notes", []) or []:
        if note_id not in notes:
            raise _fail(source, f"{where}.notes", f"unknown note id {note_id!r}")


def load_curated(path: Path = PROFILES_FILE) -> dict[str, Any]:
    """Read and check the curated data file; raise `ProfileError` naming the first bad field."""
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _fail(source, "file", str(exc)) from None
    if not isinstance(data, dict):
        raise _fail(source, "file", "must be a mapping")
    for key in ("version", "reviewed", "notes", "markets"):
        if key not in data:
            raise _fail(source, key, "is required")
    if not isinstance(data["version"], int) or data["version"] < 1:
        raise _fail(source, "version", "must be a positive integer")
    if not isinstance(data["reviewed"], date):
        raise _fail(source, "reviewed", "must be a date (YYYY-MM-DD)")
    notes = _curated_notes(data["notes"], source)
    for note_id in data.get("eu_notes", []) or []:
        if note_id not in notes:
            raise _fail(source, "eu_notes", f"unknown note id {note_id!r}")
    markets = data["markets"]
    if not isinstance(markets, dict) or not markets:
        raise _fail(source, "markets", "must be a non-empty mapping of country code to market")
    for code, body in markets.items():
        if not isinstance(body, dict):
            raise _fail(source, f"markets.{code}", "must be a mapping")
        _check_market(str(code), body, notes, source)
    return {**data, "notes": notes}


@functools.lru_cache(maxsize=4)
def _curated(path: Path = PROFILES_FILE) -> dict[str, Any]:
    return load_curated(path)


def markets(path: Path = PROFILES_FILE) -> list[str]:
    """The country codes that have a profile, sorted."""
    return sorted(str(c) for c in _curated(path)["markets"])


def _formats(locale: Locale, currency: str) -> LocaleFormats:
    symbols = locale.number_symbols.get("latn", {})
    return LocaleFormats(
        decimal_symbol=symbols.get("decimal", "."),
        group_symbol=symbols.get("group", ","),
        number_pattern=locale.decimal_formats[None].pattern,
        currency_pattern=locale.currency_formats["standard"].pattern,
        date_short=locale.date_formats["short"].pattern,
        date_long=locale.date_formats["long"].pattern,
        number_example=format_decimal(1234567.891, locale=locale),
        currency_example=format_currency(1234.5, currency, locale=locale),
        date_example=format_date(_SAMPLE_DATE, "long", locale=locale),
    )


def _holidays(code: str, locale: Locale, today: date) -> list[Holiday]:
    """Public holidays from `today` for 12 months, named in the locale's language when `holidays` has it."""
    import holidays

    end = today + timedelta(days=365)
    try:
        probe = holidays.country_holidays(code)
    except NotImplementedError:
        return []
    supported = set(getattr(probe, "supported_languages", ()) or ())
    wanted = next((tag for tag in (str(locale), locale.language) if tag in supported), None)
    table = holidays.country_holidays(code, years=range(today.year, end.year + 1), language=wanted)
    return [Holiday(date=day, name=name) for day, name in sorted(table.items()) if today <= day < end]


def _build(code: str, today: date, path: Path) -> CountryProfile:
    data = _curated(path)
    body = data["markets"][code]
    notes: dict[str, LegalNote] = data["notes"]
    locale = locale_of(body["default_locale"])
    currencies = get_territory_currencies(code, today)
    if not currencies:
        raise _fail(path.name, f"markets.{code}", "babel knows no currency for this territory")
    country = pycountry.countries.get(alpha_2=code)
    ids = [*(data.get("eu_notes", []) if body.get("eu") else []), *body.get("notes", [])]
    return CountryProfile(
        country=code,
        name=getattr(country, "common_name", None) or country.name,
        languages=[str(t) for t in body["languages"]],
        default_locale=str(body["default_locale"]).replace("-", "_"),
        currency=currencies[0],
        formats=_formats(locale, currencies[0]),
        measurement=_MEASUREMENT.get(code, "metric"),  # type: ignore[arg-type]
        rtl=locale.character_order == "right-to-left",
        formality=Formality.model_validate(body["formality"]),
        holidays=_holidays(code, locale, today),
        legal_notes=[notes[i] for i in dict.fromkeys(ids)],
        eu=bool(body.get("eu")),
        reviewed=data["reviewed"],
        data_version=data["version"],
    )


@functools.lru_cache(maxsize=256)
def _cached(code: str, today: date, path: Path) -> CountryProfile:
    return _build(code, today, path)


def country_profile(code: str, *, today: date | None = None, path: Path = PROFILES_FILE) -> CountryProfile:
    """The profile of one market (ISO alpha-2, any case); raises `UnknownMarket` for a market without one."""
    cc = code.strip().upper()
    if cc not in _curated(path)["markets"]:
        raise UnknownMarket(f"no country profile for {code!r}; profiles exist for {', '.join(markets(path))}")
    return _cached(cc, today or datetime.now(timezone.utc).date(), path)


def all_profiles(*, today: date | None = None, path: Path = PROFILES_FILE) -> list[CountryProfile]:
    """Every market's profile, by country code."""
    return [country_profile(code, today=today, path=path) for code in markets(path)]
