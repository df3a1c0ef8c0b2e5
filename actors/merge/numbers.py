"""Numbers in claims and evidence: parse "2.1bn", "EUR 1,480.0 million", "6,4 %", unit strings; compare with tolerance.

Every figure becomes a `Quantity`: the value as stated, a magnitude (`scale`), a dimension (money,
percent, area, year or a plain number) and, for money, an ISO currency. Comparing uses the base value
(`value * scale`): "2.1bn", "2,100 million" and "$2.1 billion" are the same figure. Two figures agree
when they are within `REL_TOLERANCE` of each other, or when the claim's figure is the source rounded to
the digits the claim states (at most `ROUNDING_CAP` apart): "6%" agrees with 6.4, "EUR 1.5 bn" with 1,480 m.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from actors.merge.text import STOPWORDS, canonical, mask_placeholders

__all__ = ["REL_TOLERANCE", "ROUNDING_CAP", "Quantity", "agree", "claim_quantity", "comparable", "extract_quantities",
           "format_quantity", "is_unit_word", "magnitude_slip", "parse_unit"]

REL_TOLERANCE = 0.02
ROUNDING_CAP = 0.10

_SCALES = {
    **dict.fromkeys(("k", "thousand", "thousands", "tsd"), 1e3),
    **dict.fromkeys(("m", "mn", "mln", "mio", "mil", "million", "millions"), 1e6),
    **dict.fromkeys(("b", "bn", "bln", "billion", "billions", "mrd", "milliarde", "milliarden"), 1e9),
    **dict.fromkeys(("tn", "trn", "trillion", "trillions"), 1e12),
}
_PERCENT = frozenset(("%", "pct", "percent", "percentage", "per-cent", "pp", "points"))
_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {"euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": "GBP",
                   "pounds": "GBP", "yen": "JPY", "franc": "CHF", "francs": "CHF"}
_AREA = frozenset(("km2", "km²", "sqkm"))


@lru_cache(maxsize=1)
def _iso_currencies() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _currency(word: str) -> str | None:
    low = word.lower()
    if low in _SYMBOLS:
        return _SYMBOLS[low]
    if low in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[low]
    return word.upper() if len(word) == 3 and word.upper() in _iso_currencies() else None


@dataclass(frozen=True)
class Quantity:
    """One figure: `value` as stated times `scale`, in a dimension (and currency for money)."""

    value: float
    scale: float = 1.0
    dimension: str = "number"  # money | percent | area | year | measure:<unit> | number
    currency: str | None = None
    decimals: int = 0
    strong: bool = True  # weak: a small bare integer ("top 3"), never contradicts anything
    start: int = -1
    end: int = -1
    topics: tuple[str, ...] = field(default=())

    @property
    def base(self) -> float:
        """The value in base units (EUR, not EUR millions)."""
        return self.value * self.scale


def is_unit_word(word: str) -> bool:
    """True for magnitude, percent, area and currency words ("bn", "pct", "EUR", "euros")."""
    low = word.lower()
    currency = _currency(word) if len(word) != 3 or word.isupper() else _CURRENCY_WORDS.get(low)
    return low in _SCALES or low in _PERCENT or low in _AREA or currency is not None


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def parse_number(raw: str) -> tuple[float, int]:
    """A number in English or continental notation and its stated decimals: "1,480.0", "6,4", "2.100.000"."""
    text = raw.replace("\u00a0", "").replace("\u202f", "")
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "").replace(decimal, ".")
    elif "," in text:
        groups = text.split(",")
        text = text.replace(",", "") if all(len(g) == 3 for g in groups[1:]) else text.replace(",", ".", 1)
    elif text.count(".") > 1:
        text = text.replace(".", "")
    return float(text), _decimals(text)


@dataclass(frozen=True)
class UnitInfo:
    """What a unit string ("EUR bn", "growth pct", "value_eur_m", "%") says about a figure."""

    dimension: str
    currency: str | None
    scale: float
    topics: tuple[str, ...]


def parse_unit(unit: str | None) -> UnitInfo:
    """Read dimension, currency, magnitude and topic words from a unit string or data key."""
    if not unit:
        return UnitInfo("number", None, 1.0, ())
    words = re.findall(r"us\$|[€$£¥%]|km²|[A-Za-z]+\d*", unit.replace("per cent", "percent"), flags=re.IGNORECASE)
    dimension, currency, scale, topics = "number", None, 1.0, []
    for word in words:
        low = word.lower()
        if low in _PERCENT:
            dimension = "percent"
        elif low in _SCALES:
            scale = _SCALES[low]
        elif low in _AREA:
            dimension = "area"
        elif (code := _currency(word)) is not None:
            currency, dimension = code, "money"
        elif low in ("year", "years", "yr") and len(words) == 1:
            dimension = "year"
        elif low not in STOPWORDS and len(low) > 1:
            topics.append(canonical(low))
    return UnitInfo(dimension, currency, scale, tuple(topics))


_NUM = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_MAG_WORDS = r"thousands?|millions?|billions?|trillions?|milliarden|milliarde|mn|mln|mio|bn|bln|mrd|tn|trn|tsd"
_QUANTITY = re.compile(
    rf"""(?:(?P<cur1>US\$|[$€£¥]|\b[A-Z]{{3}}\b)\s?)?
    (?<![\w.,])(?P<sign>[-−+](?=\d))?(?P<num>{_NUM})(?![\d])
    (?:(?P<mag1>[kKmMbB])(?![\w])|\s?(?P<mag2>(?i:{_MAG_WORDS}))(?![\w]))?
    (?:\s?(?P<pct>%|per\s?cent\b|percent\b|pct\b|percentage\spoints?\b|pp\b|p\.p\.)
      |\s?(?P<area>km²|km2\b|square\skilomet(?:er|re)s\b)
      |\s?(?P<measure>kg|mg|g|ml|cl|l|oz|lbs?|cm|mm)\b
      |\s?(?P<cur2>€|\b[A-Z]{{3}}\b|euros?\b|dollars?\b|pounds?\b))?""",
    re.VERBOSE,
)


def extract_quantities(text: str) -> list[Quantity]:
    """Every figure in `text` (placeholders masked), with its span, in reading order."""
    out = []
    for m in _QUANTITY.finditer(mask_placeholders(text)):
        value, decimals = parse_number(m.group("num"))
        if m.group("sign") in ("-", "−"):
            value = -value
        mag = m.group("mag1") or m.group("mag2")
        scale = _SCALES[mag.lower()] if mag else 1.0
        cur_word = m.group("cur1") or m.group("cur2")
        currency = _currency(cur_word) if cur_word else None
        if m.group("pct"):
            dimension = "percent"
        elif m.group("area"):
            dimension = "area"
        elif m.group("measure"):
            dimension = f"measure:{m.group('measure').lower()}"
        elif currency:
            dimension = "money"
        elif not mag and decimals == 0 and "," not in m.group("num") and 1900 <= value <= 2100:
            dimension = "year"
        else:
            dimension = "number"
        strong = dimension != "year" and (dimension != "number" or bool(mag) or decimals > 0 or abs(value) >= 100)
        start = m.start("num") if not m.group("cur1") else m.start()
        out.append(Quantity(value, scale, dimension, currency, decimals, strong, start, m.end()))
    return out


def claim_quantity(value: float, unit: str | None) -> Quantity:
    """The structured figure of a claim (`value` in `unit`)."""
    info = parse_unit(unit)
    return Quantity(value, info.scale, info.dimension, info.currency, _decimals(f"{value:.10g}"), True,
                    topics=info.topics)


def comparable(a: Quantity, b: Quantity) -> bool:
    """True when two figures measure the same kind of thing (a plain number compares with anything but years)."""
    if "year" in (a.dimension, b.dimension):
        return a.dimension == b.dimension
    if a.dimension == "number" or b.dimension == "number":
        return True
    if a.dimension != b.dimension:
        return False
    return a.currency is None or b.currency is None or a.currency == b.currency


def _within(claimed: Quantity, claimed_base: float, source: float) -> bool:
    if claimed_base == source:
        return True
    if claimed_base * source < 0:
        return False
    rel = abs(claimed_base - source) / max(abs(claimed_base), abs(source))
    if rel <= REL_TOLERANCE:
        return True
    rounding = 0.5 * 10 ** (-claimed.decimals) * claimed.scale
    return abs(claimed_base - source) <= rounding * (1 + 1e-9) and rel <= ROUNDING_CAP


def agree(claimed: Quantity, source: Quantity) -> bool:
    """True when `claimed` states `source` within tolerance (plain numbers may also match the unscaled value)."""
    if _within(claimed, claimed.base, source.base):
        return True
    if claimed.dimension == "number" and claimed.scale == 1.0:
        return _within(claimed, claimed.value, source.value)
    return False


def magnitude_slip(claimed: Quantity, source: Quantity) -> int:
    """The power of ten by which `claimed` misses `source` (0 when it is not a clean magnitude slip)."""
    if claimed.base == 0 or source.base == 0 or claimed.base * source.base < 0:
        return 0
    exponent = math.log10(abs(claimed.base) / abs(source.base))
    nearest = round(exponent)
    if nearest != 0 and abs(exponent - nearest) < math.log10(1 + REL_TOLERANCE) * 2:
        return int(nearest)
    return 0


def format_quantity(q: Quantity) -> str:
    """A short readable form: "EUR 1.48 bn", "6.4%", "2024"."""
    if q.dimension == "percent":
        return f"{q.value:g}%"
    base = q.base
    for size, label in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if q.scale > 1 and abs(base) >= size:
            text = f"{base / size:,.6g} {label}"
            break
    else:
        text = f"{q.value:,.10g}"
    if q.dimension == "money" and q.currency:
        return f"{q.currency} {text}"
    if q.dimension.startswith("measure:"):
        return f"{text} {q.dimension.split(':', 1)[1]}"
    return f"{text} km²" if q.dimension == "area" else text
