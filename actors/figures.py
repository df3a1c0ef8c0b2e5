"""Figures as a person writes them ("EUR 1.48 bn", "6.4 %", "2024"), from a value and its unit or data key."""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_compact_currency, format_compact_decimal, format_currency, format_decimal

from actors.merge.numbers import parse_unit

__all__ = ["format_amount", "format_measure"]

_MAGNITUDES = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"))  # money: "EUR 1.48 bn"
_COUNT_MAGNITUDES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"))  # counts: "50.42 million", never "m"


def _english(locale: Locale | str) -> bool:
    """English keeps the report's own magnitude words ("EUR 1.48 bn"); others use babel's compact forms."""
    return (locale.language if isinstance(locale, Locale) else str(locale).replace("-", "_").split("_")[0]) == "en"


def _decimal(value: float, locale: Locale | str) -> str:
    return format_decimal(value, format="#,##0.##", locale=locale)


def format_amount(value: float, locale: Locale | str = "en", *, words: bool = False) -> str:
    """A large amount with a magnitude word ("1.48 bn", "410 m"; with `words`, "50.42 million"); smaller ones
    grouped ("83,200")."""
    for size, word in _COUNT_MAGNITUDES if words else _MAGNITUDES:
        if abs(value) >= size:
            return f"{_decimal(value / size, locale)} {word}"
    return _decimal(value, locale)


def format_measure(value: float | None, unit: str | None, locale: Locale | str = "en") -> str:
    """A figure from its unit or data key: "EUR 1.48 bn" (value_eur_m 1480), "6.4 %", "2024"; an em dash for none."""
    if value is None:
        return "—"
    info = parse_unit(unit)
    if info.dimension == "year" or (unit or "").lower() == "year":
        return str(int(value)) if float(value).is_integer() else _decimal(value, locale)
    amount = value * info.scale
    if info.dimension == "percent":
        return f"{_decimal(value, locale)} %"
    if info.dimension == "points":
        return f"{_decimal(value, locale)} pp"
    if info.dimension == "money" and info.currency and not _english(locale):
        # Other languages get babel's own forms: "1,48 Mrd. €" (de), "1,48 Md €" (fr), "€14.8億" (ja).
        if info.scale == 1 and abs(amount) < 1e4:
            return format_currency(amount, info.currency, locale=locale)
        return format_compact_currency(amount, info.currency, locale=locale, fraction_digits=2)
    if not _english(locale) and abs(amount) >= 1e6:
        compact = format_compact_decimal(amount, locale=locale, fraction_digits=2)
        return f"{compact} {info.unit}" if info.unit else compact
    if info.dimension == "money" and info.currency:
        if info.scale == 1 and abs(amount) < 1e4:  # a price: always with its cents ("EUR 2.00")
            return f"{info.currency} {format_decimal(amount, format='#,##0.00', locale=locale)}"
        return f"{info.currency} {format_amount(amount, locale)}"
    if info.unit:
        return f"{format_amount(amount, locale, words=True)} {info.unit}"
    return format_amount(amount, locale, words=True)  # a bare "m" would read as metres
