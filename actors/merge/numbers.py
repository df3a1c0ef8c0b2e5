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
           "format_quantity", "is_unit_word", "magnitude_slip", "parse_unit", "related", "unit_slip"]

REL_TOLERANCE = 0.02
ROUNDING_CAP = 0.10

_SCALES = {
    **dict.fromkeys(("k", "thousand", "thousands", "tsd"), 1e3),
    **dict.fromkeys(("m", "mn", "mln", "mio", "mil", "million", "millions"), 1e6),
    **dict.fromkeys(("b", "bn", "bln", "billion", "billions", "mrd", "milliarde", "milliarden"), 1e9),
    **dict.fromkeys(("tn", "trn", "trillion", "trillions"), 1e12),
}
_PERCENT = frozenset(("%", "pct", "percent", "percentage", "per-cent"))
_POINTS = frozenset(("pp", "ppt", "ppts", "pts"))  # "points" alone is only a unit after "percentage"
_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "a$": "AUD", "au$": "AUD", "c$": "CAD",
            "ca$": "CAD", "nz$": "NZD", "hk$": "HKD", "nt$": "TWD", "s$": "SGD", "r$": "BRL", "mx$": "MXN",
            "mex$": "MXN"}
_CURRENCY_WORDS = {"euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": "GBP",
                   "pounds": "GBP", "yen": "JPY", "franc": "CHF", "francs": "CHF"}
# Physical units: written form -> (dimension, factor to the dimension's base unit: kg, litre, km², metre).
_UNITS = {
    **{u: ("mass", 1e-6) for u in ("mg",)}, **{u: ("mass", 1e-3) for u in ("g", "gram", "grams")},
    **{u: ("mass", 1.0) for u in ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms")},
    **{u: ("mass", 1e3) for u in ("t", "tonne", "tonnes", "ton", "tons", "mt")},
    **{u: ("mass", 0.45359237) for u in ("lb", "lbs", "pound-weight")}, "oz": ("mass", 0.028349523125),
    **{u: ("volume", 1e-3) for u in ("ml",)}, "cl": ("volume", 1e-2),
    **{u: ("volume", 1.0) for u in ("l", "litre", "litres", "liter", "liters")},
    **{u: ("volume", 100.0) for u in ("hl", "hectolitre", "hectolitres", "hectoliter", "hectoliters")},
    **{u: ("volume", 3.785411784) for u in ("gallon", "gallons", "gal")},
    **{u: ("area", 1.0) for u in ("km2", "km²", "sqkm", "sq km", "square kilometres", "square kilometers")},
    **{u: ("area", 2.589988110336) for u in ("mi2", "mi²", "sqmi", "sq mi", "sq miles", "square miles")},
    **{u: ("area", 0.01) for u in ("ha", "hectare", "hectares")},
    "mm": ("length", 1e-3), "cm": ("length", 1e-2), "km": ("length", 1e3),
    "wh": ("energy", 1.0), "kwh": ("energy", 1e3), "mwh": ("energy", 1e6), "gwh": ("energy", 1e9),
    "twh": ("energy", 1e12), "kw": ("power", 1e3), "mw": ("power", 1e6), "gw": ("power", 1e9),
}
_UNIT_NAMES = {"km2": "km²", "sqkm": "km²", "sq km": "km²", "square kilometres": "km²", "square kilometers": "km²",
               "mi2": "mi²", "sqmi": "mi²", "sq mi": "mi²", "sq miles": "mi²", "square miles": "mi²",
               "tonne": "t", "tonnes": "t", "ton": "t", "tons": "t", "mt": "t", "kgs": "kg", "kilo": "kg",
               "kilos": "kg", "kilogram": "kg", "kilograms": "kg", "gram": "g", "grams": "g", "litre": "l",
               "litres": "l", "liter": "l", "liters": "l", "hectolitre": "hl", "hectolitres": "hl",
               "hectoliter": "hl", "hectoliters": "hl", "hectare": "ha", "hectares": "ha", "lbs": "lb",
               "gallons": "gal", "gallon": "gal", "wh": "Wh", "kwh": "kWh", "mwh": "MWh", "gwh": "GWh",
               "twh": "TWh", "kw": "kW", "mw": "MW", "gw": "GW"}
FAMILIES = {"percent": "share-like", "points": "share-like"}  # dimensions that measure the same kind of thing


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
    dimension: str = "number"  # money | percent | points | mass | volume | area | length | year | number
    currency: str | None = None
    decimals: int = 0
    strong: bool = True  # weak: a small bare integer ("top 3"), never contradicts anything
    start: int = -1
    end: int = -1
    topics: tuple[str, ...] = field(default=())
    unit: str | None = None  # the physical unit as written ("kg", "t", "km²", "mi²"), or "pp"
    factor: float = 1.0  # the unit in the dimension's base unit (t -> 1000 kg)

    @property
    def base(self) -> float:
        """The value in base units (EUR, not EUR millions; kg, not t)."""
        return self.value * self.scale * self.factor


def is_unit_word(word: str) -> bool:
    """True for magnitude, percent, area and currency words ("bn", "pct", "EUR", "euros")."""
    low = word.lower()
    currency = _currency(word) if len(word) != 3 or word.isupper() else _CURRENCY_WORDS.get(low)
    return low in _SCALES or low in _PERCENT or low in _POINTS or low in _UNITS or currency is not None


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
    unit: str | None = None
    factor: float = 1.0


def parse_unit(unit: str | None) -> UnitInfo:
    """Read dimension, currency, magnitude and topic words from a unit string or data key."""
    if not unit:
        return UnitInfo("number", None, 1.0, ())
    words = re.findall(r"us\$|[€$£¥%]|km²|mi²|[A-Za-z]+\d*", unit.replace("per cent", "percent"), flags=re.IGNORECASE)
    dimension, currency, scale, topics = "number", None, 1.0, []
    written, factor = None, 1.0
    after_per = False
    for word in words:
        low = word.lower()
        if after_per:  # "price_eur_per_kwh": what it is per is no unit of the figure
            after_per = False
            if low in _UNITS or low in _SCALES:
                continue
        if low == "per":
            after_per = True
            continue
        if low in _POINTS or (low == "points" and dimension in ("percent", "points")):
            dimension, written = "points", "pp"
        elif low in _PERCENT:
            dimension = "points" if dimension == "points" else "percent"
        elif low in _SCALES:
            scale = _SCALES[low]
        elif low in _UNITS:
            dimension, factor = _UNITS[low]
            written = _UNIT_NAMES.get(low, low)
        elif (code := _currency(word)) is not None:
            currency, dimension = code, "money"
        elif low in ("year", "years", "yr") and len(words) == 1:
            dimension = "year"
        elif low not in STOPWORDS and len(low) > 1:
            topics.append(canonical(low))
    return UnitInfo(dimension, currency, scale, tuple(topics), written, factor)


_NUM = r"\d{1,3}(?:[,.]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
_MAG_WORDS = r"thousands?|millions?|billions?|trillions?|milliarden|milliarde|mn|mln|mio|bn|bln|mrd|tn|trn|tsd"
_QUANTITY = re.compile(
    rf"""(?:(?P<cur1>(?:US|AU|A|CA|C|NZ|NT|HK|S|R|MX|Mex)\$|[$€£¥]|\b[A-Z]{{3}}\b)\s?)?
    (?<![\w.,])(?P<sign>[-−+](?=\d))?(?P<num>{_NUM})(?![\d])
    (?:(?P<mag1>[kKmMbB])(?![\w])|\s?(?P<mag2>(?i:{_MAG_WORDS}))(?![\w])|\s(?P<mag3>[mk])(?![\w²]))?
    (?:\s?(?P<pts>percentage[\s-]points?\b|%[\s-]?points?\b|per\s?cent(?:age)?[\s-]points?\b|pp\b|ppts?\b|p\.p\.
                 |pts\b)
      |\s?(?P<pct>%|per\s?cent\b|percent\b|pct\b)
      |\s?(?P<measure>km²|km2\b|mi²|mi2\b|sq\.?\s?(?:km|mi(?:les)?)\b|square\s(?:kilomet(?:er|re)s|miles)\b
                     |hectares?\b|ha\b|kg\b|kgs\b|kilo(?:gram)?s?\b|mg\b|g\b|grams?\b|t\b|tonnes?\b|tons?\b
                     |ml\b|cl\b|hl\b|l\b|lit(?:re|er)s?\b|hectolit(?:re|er)s?\b|gallons?\b|oz\b|lbs?\b
                     |cm\b|mm\b|km\b|[kMGT]?Wh\b|[kMG]W\b|(?i:[kmgt]wh)\b)
      |\s?(?P<cents>(?:euro\s|US\s)?cents?\b|ct\b|pence\b)
      |\s?(?P<cur2>€|\b[A-Z]{{3}}\b|euros?\b|dollars?\b|pounds?\b))?""",
    re.VERBOSE,
)


_SMALL = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
_SMALL.update({"a": 1, "an": 1})
_COUNT = r"(?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|a|an)"
_SHARE_WORDS = re.compile(
    rf"\b(?P<n>{_COUNT})\s+(?:in|out\s+of)\s+(?:every\s+)?(?P<d>\d{{1,2}}|two|three|four|five|six|seven|eight|nine|ten)\b"
    r"|\b(?P<frac>(?:a|one)\s+half|half|(?:a|one)\s+third|two[\s-]thirds|(?:a|one)\s+quarter|three[\s-]quarters)\b"
    r"(?=\s+(?:of|the|all)\b)",
    re.IGNORECASE,
)
_FRACTIONS = {"half": 50.0, "third": 100 / 3, "thirds": 200 / 3, "quarter": 25.0, "quarters": 75.0}


_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_WORD_FIGURE = re.compile(
    r"\b(?P<n>" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + r")\s+"
    r"(?:(?P<pts>percentage[\s-]points?)|(?P<pct>per\s?cent|percent)|(?P<mag>thousand|million|billion|trillion))\b",
    re.IGNORECASE,
)


def _word_figures(text: str) -> list[Quantity]:
    """Figures written in words: "three percentage points", "two million", "five per cent"."""
    out = []
    for m in _WORD_FIGURE.finditer(text):
        value = float(_WORD_NUMBERS[m.group("n").lower()])
        if m.group("pts"):
            out.append(Quantity(value, 1.0, "points", None, 0, True, m.start(), m.end(), unit="pp"))
        elif m.group("pct"):
            out.append(Quantity(value, 1.0, "percent", None, 0, True, m.start(), m.end()))
        else:
            out.append(Quantity(value, _SCALES[m.group("mag").lower()], "number", None, 0, True, m.start(), m.end()))
    return out


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _SMALL[word.lower()]


def _verbal_shares(text: str) -> list[Quantity]:
    """Proportions in words: "four in ten" (40 %, to the nearest 10), "one in five", "half of", "two thirds of"."""
    out = []
    for m in _SHARE_WORDS.finditer(text):
        if m.group("frac"):
            value = _FRACTIONS[m.group("frac").lower().replace("-", " ").split()[-1]]
        else:
            denominator = _count(m.group("d"))
            if not denominator or _count(m.group("n")) > denominator:
                continue
            value = 100.0 * _count(m.group("n")) / denominator
        # stated as a fraction: as precise as one step of ten percent; "more than half" is only a bound
        bound = re.search(r"\b(?:more|less|fewer)\s+than\s+$|\b(?:over|under|almost|nearly|about|around)\s+$",
                          text[max(0, m.start() - 16):m.start()], re.IGNORECASE)
        approximate = bound is not None and bound.group().lower().strip() in ("about", "around")
        out.append(Quantity(round(value, 1), 1.0, "percent", None, -1, bound is None or approximate, m.start(),
                            m.end()))
    return out


def extract_quantities(text: str) -> list[Quantity]:
    """Every figure in `text` (placeholders masked), with its span, in reading order."""
    masked = mask_placeholders(text)
    out = _verbal_shares(masked) + _word_figures(masked)
    taken = [(q.start, q.end) for q in out]
    for m in _QUANTITY.finditer(masked):
        if any(s <= m.start() < e for s, e in taken):
            continue
        value, decimals = parse_number(m.group("num"))
        if m.group("sign") in ("-", "−"):
            value = -value
        cur_word = m.group("cur1") or m.group("cur2")
        if m.group("cents"):  # "36 euro cents" is EUR 0.36
            word = m.group("cents").lower()
            cur_word = cur_word or ("euro" if word.startswith("euro") or word == "ct" else "pound" if word == "pence"
                                    else "dollar" if word.startswith("us") else None)
        # "EUR 612 m" is millions; a bare "612 m" may be metres, so it stays a plain number
        mag = m.group("mag1") or m.group("mag2") or (m.group("mag3") if cur_word else None)
        scale = _SCALES[mag.lower()] if mag else 1.0
        currency = _currency(cur_word) if cur_word else None
        unit, factor = None, 1.0
        if m.group("pts"):
            dimension, unit = "points", "pp"
        elif m.group("pct"):
            dimension = "percent"
        elif m.group("measure"):
            written = re.sub(r"\s+", " ", m.group("measure").lower()).replace("sq. ", "sq ").replace("sq.", "sq ")
            dimension, factor = _UNITS[written]
            unit = _UNIT_NAMES.get(written, written)
        elif currency or m.group("cents"):
            dimension = "money"
            scale *= 0.01 if m.group("cents") else 1.0
        elif not mag and decimals == 0 and "," not in m.group("num") and 1900 <= value <= 2100:
            dimension = "year"
        else:
            dimension = "number"
        ranked = re.search(r"\btop[\s-]$", masked[max(0, m.start() - 4):m.start()], re.IGNORECASE) is not None
        strong = dimension != "year" and not ranked and (
            dimension != "number" or bool(mag) or decimals > 0 or abs(value) >= 100)  # "top-100" is a rank
        start = m.start("num") if not m.group("cur1") else m.start()
        out.append(Quantity(value, scale, dimension, currency, decimals, strong, start, m.end(), unit=unit,
                            factor=factor))
    return sorted(out, key=lambda q: q.start)


def claim_quantity(value: float, unit: str | None) -> Quantity:
    """The structured figure of a claim (`value` in `unit`)."""
    info = parse_unit(unit)
    return Quantity(value, info.scale, info.dimension, info.currency, _decimals(f"{value:.10g}"), True,
                    topics=info.topics, unit=info.unit, factor=info.factor)


def comparable(a: Quantity, b: Quantity) -> bool:
    """True when two figures can be compared value for value (a plain number compares with anything but years)."""
    if "year" in (a.dimension, b.dimension):
        return a.dimension == b.dimension
    if a.dimension == "number" or b.dimension == "number":
        return True
    if a.dimension != b.dimension:
        return False
    return a.currency is None or b.currency is None or a.currency == b.currency


def related(a: Quantity, b: Quantity) -> bool:
    """True when two figures could state the same quantity, maybe wrongly: another currency or percent vs points."""
    if comparable(a, b):
        return True
    if "year" in (a.dimension, b.dimension):
        return False
    return a.dimension == b.dimension or FAMILIES.get(a.dimension, a.dimension) == FAMILIES.get(b.dimension)


def unit_slip(claimed: Quantity, source: Quantity) -> str:
    """How `claimed` states `source` in another currency or unit ("" when it does not)."""
    if claimed.dimension == "money" and source.dimension == "money" and claimed.currency and source.currency \
            and claimed.currency != source.currency:
        return f"another currency ({claimed.currency}, not {source.currency})"
    if {claimed.dimension, source.dimension} == {"percent", "points"}:
        said, real = ("percentage points", "percent") if claimed.dimension == "points" else (
            "percent", "percentage points")
        return f"{said}, not {real}"
    if claimed.unit and source.unit and claimed.unit != source.unit and claimed.dimension == source.dimension \
            and math.isclose(claimed.value * claimed.scale, source.value * source.scale, rel_tol=REL_TOLERANCE):
        return f"another unit ({claimed.unit}, not {source.unit})"
    return ""


def _within(claimed: Quantity, claimed_base: float, source: float) -> bool:
    if claimed_base == source:
        return True
    if claimed_base * source < 0:
        return False
    rel = abs(claimed_base - source) / max(abs(claimed_base), abs(source))
    if rel <= REL_TOLERANCE:
        return True
    rounding = 0.5 * 10 ** (-claimed.decimals) * claimed.scale * claimed.factor
    return abs(claimed_base - source) <= rounding * (1 + 1e-9) and rel <= ROUNDING_CAP


def agree(claimed: Quantity, source: Quantity) -> bool:
    """True when `claimed` states `source` within tolerance (plain numbers may also match the unscaled value)."""
    if not comparable(claimed, source):
        return False
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


def format_quantity(q: Quantity, *, signed: bool = False) -> str:
    """A short readable form: "EUR 1.48 bn", "6.4%", "3 pp", "27 t", "2024" ("+6%" when `signed`)."""
    sign = "+" if signed and q.value > 0 else ""
    if q.dimension == "percent":
        return f"{sign}{q.value:g}%"
    if q.dimension == "points":
        return f"{sign}{q.value:g} pp"
    if q.unit:
        amount = q.value * q.scale
        for size, label in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
            if abs(amount) >= size:
                return f"{sign}{amount / size:,.6g} {label} {q.unit}"
        return f"{sign}{amount:,.6g} {q.unit}"
    base = q.base
    for size, label in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if q.scale > 1 and abs(base) >= size:
            text = f"{base / size:,.6g} {label}"
            break
    else:
        text = f"{base:,.6g}" if q.scale < 1 else f"{q.value:,.10g}"
    if q.dimension == "money" and q.currency:
        return f"{q.currency} {text}"
    return f"{sign}{text} km²" if q.dimension == "area" else sign + text
