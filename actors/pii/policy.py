"""PII policy: which raw detections count, with Presidio's false positives and allow-listed terms removed."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pycountry

from actors.pii.ids import is_profile_url
from schemas import PiiEntity

__all__ = [
    "DEFAULT_MIN_SCORE",
    "PLACEHOLDER_RE",
    "AllowList",
    "Detection",
    "clean_entities",
    "countries_allowed",
    "country_names",
    "normalize",
]

DEFAULT_MIN_SCORE = 0.3
"""Scores below this are dropped (Presidio's phone recognizer reports 0.4 without context words)."""

PLACEHOLDER_RE = re.compile(r"<([A-Z][A-Z_]*)_(\d+)>")
"""A pseudonym placeholder such as `<PERSON_1>`."""

_NER_TYPES = frozenset({"PERSON", "LOCATION"})
_CONTAINERS_BY_SCORE = frozenset({"PERSON", "LOCATION", "URL"})  # these contain others only by score
# Which type keeps a span when different types overlap with equal scores: validated patterns first.
_PRIORITY = {
    "EMAIL_ADDRESS": 0, "IBAN_CODE": 1, "CREDIT_CARD": 2, "IP_ADDRESS": 3, "EU_VAT_ID": 4, "US_SSN": 5,
    "UK_NINO": 5, "DE_TAX_ID": 5, "FR_NIR": 5, "NL_BSN": 5, "PL_PESEL": 5, "DATE_OF_BIRTH": 5,
    "PHONE_NUMBER": 6, "CUSTOMER_ID": 7, "SOCIAL_HANDLE": 8, "URL": 9, "PERSON": 10, "LOCATION": 11,
}  # fmt: skip
# Words the small spaCy model takes for names: field labels and business abbreviations.
_LABEL_WORDS = frozenset(
    "tel tel. fax phone mobile handy email e-mail mail iban bic swift sku ean gtin upc order invoice "
    "price total ref item article art nr no id vat tax".split()
)
# An id-like label right before a number: "order 2023-0042", "SKU 12345-678", "Art.-Nr. 4711".
_ID_LABEL_BEFORE = re.compile(
    r"\b(?:order|invoice|sku|ean|gtin|upc|isbn|article|art|item|ref|reference|version|batch|lot)"
    r"(?:[\s.-]*(?:no|nr|number|id|#))?[\s.:#-]*$",
    re.IGNORECASE,
)
_HONORIFIC_BEFORE = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Herr|Frau|Hr|Fr|Mme|Mlle|Monsieur|Madame|Sr|Sra|Srta|Señor|Señora|Sig|Sig\.ra|Signora|Signor|"
    r"Dhr|Mevr|Mw|Pan|Pani)\.?)[ \t]+$"
)  # not "Dr": "Dr. Oetker" and "Dr Pepper" are brands
YEAR_RANGE_RE = re.compile(r"^(?:19|20)\d\d\s*[-–—/]\s*(?:19|20)\d\d$")
_URLISH = re.compile(r"://|@|www\.|[/\\#€$£¥%=]")


class Detection(Protocol):
    """A raw detection (Presidio's `RecognizerResult` satisfies it)."""

    entity_type: str
    start: int
    end: int
    score: float


def normalize(value: str) -> str:
    """Case- and whitespace-normalize a term for comparison."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def _spaced(value: str) -> str:
    """NFKC and single spaces, case kept: allow-list terms compare this way (exact, case-aware)."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


@dataclass(frozen=True)
class AllowList:
    """Terms never redacted: brand terms (exact whole spans, case-aware) and places (LOCATION only, any case).

    A brand term protects a detection only when the detection lies inside an occurrence of the
    whole term: "Müller" keeps the dairy brand but not "Hans Müller", and "Ford" does not unmask
    "Tom Ford".

    Example:
        >>> allow = AllowList.of(["Oatly Barista", "Müller"])
        >>> allow.permits("PERSON", "Oatly Barista"), allow.permits("PERSON", "Oatly"), allow.permits("PERSON", "Hans Müller")
        (True, False, False)
        >>> allow.covered("Hans Müller buys Müller", [(0, 11), (17, 23)])
        [False, True]
    """

    terms: frozenset[str] = field(default_factory=frozenset)
    places: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", frozenset(n for n in map(_spaced, self.terms) if n))
        object.__setattr__(self, "places", frozenset(n for n in map(normalize, self.places) if n))

    @classmethod
    def of(cls, allow: AllowList | Iterable[str] = ()) -> AllowList:
        """Return `allow` itself, or brand terms from plain strings."""
        if isinstance(allow, AllowList):
            return allow
        return cls(terms=frozenset(allow))

    def merged(self, other: AllowList | Iterable[str]) -> AllowList:
        """Return the union of this list and `other`."""
        extra = AllowList.of(other)
        return AllowList(terms=self.terms | extra.terms, places=self.places | extra.places)

    def permits(self, entity_type: str, value: str) -> bool:
        """Tell whether a detected value of that type is allow-listed (the whole value, exactly)."""
        spaced = _spaced(value.removeprefix("@") if entity_type == "SOCIAL_HANDLE" else value)
        if not spaced:
            return False
        if spaced in self.terms:
            return True
        return entity_type == "LOCATION" and normalize(spaced) in self.places

    def occurrences(self, text: str) -> list[tuple[int, int]]:
        """Spans of whole-word, case-aware occurrences of the brand terms in `text`."""
        return [m.span() for m in _terms_pattern(self.terms).finditer(text)] if self.terms else []

    def covered(self, text: str, spans: Iterable[tuple[int, int]]) -> list[bool]:
        """For each span, whether it lies inside one occurrence of a brand term."""
        found = self.occurrences(text)
        return [any(s <= start and end <= e for s, e in found) for start, end in spans]


@functools.lru_cache(maxsize=256)
def _terms_pattern(terms: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(
        r"[ \t]+".join(map(re.escape, t.split())) for t in sorted(terms, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")


@functools.cache
def country_names() -> frozenset[str]:
    """English names of every country (short, common and official): places, never personal data."""
    names: set[str] = set()
    for country in pycountry.countries:
        names.update(getattr(country, attr, "") for attr in ("name", "common_name", "official_name"))
    names.discard("")
    return frozenset(names)


@functools.cache
def countries_allowed() -> AllowList:
    """An allow-list of every country's English names and ISO codes ("DE", "FRA"), as places."""
    codes = {code for c in pycountry.countries for code in (c.alpha_2, c.alpha_3)}
    return AllowList(places=country_names() | codes)


def clean_entities(
    text: str,
    detections: Iterable[Detection],
    *,
    entities: Sequence[str] | frozenset[str],
    allow: AllowList | Iterable[str] = (),
    min_score: float | Mapping[str, float] | Callable[[str], float] = DEFAULT_MIN_SCORE,
) -> list[PiiEntity]:
    """Apply the policy to raw detections: non-overlapping `PiiEntity`s sorted by start.

    `min_score` is one threshold, a mapping of entity type to threshold (others use
    `DEFAULT_MIN_SCORE`), or a function of the entity type.
    """
    allow_list = AllowList.of(allow)
    wanted = frozenset(entities)
    threshold = _thresholds(min_score)
    placeholders = [(m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)]
    kept: list[PiiEntity] = []
    brand_spans = allow_list.occurrences(text)
    for det in detections:
        if det.entity_type not in wanted or det.score < threshold(det.entity_type):
            continue
        span = _adjust(text, det.entity_type, det.start, det.end)
        if span is None:
            continue
        start, end = span
        value = text[start:end]
        if any(start < p_end and p_start < end for p_start, p_end in placeholders):
            continue  # already pseudonymized
        if not _plausible(text, det.entity_type, start, value):
            continue
        addressed = det.entity_type == "PERSON" and _HONORIFIC_BEFORE.search(text[max(0, start - 12) : start]) is not None
        if not addressed:  # "Herr Müller" is a person even when the brief allows the brand "Müller"
            if allow_list.permits(det.entity_type, value):
                continue
            if det.entity_type in _NER_TYPES and any(s <= start and end <= e for s, e in brand_spans):
                continue  # inside a whole occurrence of a brand term: "Oetker" in "Dr. Oetker"
        kept.append(PiiEntity(type=det.entity_type, start=start, end=end, score=min(max(det.score, 0.0), 1.0)))
    return _without_overlaps(kept)


def _thresholds(min_score: float | Mapping[str, float] | Callable[[str], float]) -> Callable[[str], float]:
    if callable(min_score):
        return min_score
    if isinstance(min_score, Mapping):
        scores = dict(min_score)
        return lambda kind: scores.get(kind, DEFAULT_MIN_SCORE)
    return lambda kind: float(min_score)


def _adjust(text: str, entity_type: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim a span to its value; None when nothing is left."""
    if entity_type == "EMAIL_ADDRESS":
        # Presidio's email regex swallows a preceding URL query: "site.org?email=ann@x.de".
        at = text.find("@", start, end)
        cut = max((text.rfind(ch, start, at) for ch in "?=&/:"), default=-1) if at >= 0 else -1
        if cut >= start:
            start = cut + 1
    if entity_type in _NER_TYPES:  # spaCy's "expand" alignment can take in quotes and brackets
        while start < end and (text[start].isspace() or text[start] in "\"'([{,;"):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in "\"')]},;:"):
            end -= 1
    return (start, end) if end > start else None


def _plausible(text: str, entity_type: str, start: int, value: str) -> bool:
    """Reject detections Presidio (or the small spaCy model) is known to get wrong."""
    if entity_type == "LOCATION":  # postal addresses carry digits and slashes ("Johannplatz 9/4")
        return any(ch.isalpha() for ch in value) and not re.search(r"://|@|www\.", value)
    if entity_type == "PERSON":
        if not any(ch.isalpha() for ch in value) or any(ch.isdigit() for ch in value) or _URLISH.search(value):
            return False  # prices, SKUs, order numbers, URLs taken for names
        if normalize(value).rstrip(".") in _LABEL_WORDS:
            return False
        return not (entity_type == "PERSON" and " " not in value and value.isupper() and len(value) <= 5)
    if entity_type == "URL":  # only URLs that carry an email address or name a person (profiles)
        return "@" in value or "%40" in value.lower() or is_profile_url(value) or _personal_domain(value)
    if entity_type == "PHONE_NUMBER":
        digits = sum(ch.isdigit() for ch in value)
        if digits < 7 or YEAR_RANGE_RE.match(value):
            return False
        international = value.startswith(("+", "00"))
        return international or not _ID_LABEL_BEFORE.search(text[max(0, start - 20) : start])
    return True


def _personal_domain(url: str) -> bool:
    """A personal site: its domain is a given name and a surname ("margauxdelacroix.com", "friederike-stolzenberg.de")."""
    from actors.pii.firstnames import is_given_name

    host = re.sub(r"^[a-z]+://", "", url.lower()).split("/")[0].removeprefix("www.")
    label = host.split(".")[0]
    parts = label.split("-")
    if len(parts) == 2 and all(p.isalpha() for p in parts):
        return len(parts[0]) >= 3 and len(parts[1]) >= 3 and is_given_name(parts[0], strict=True)
    if not label.isalpha():
        return False
    return any(is_given_name(label[:i], strict=True) and len(label) - i >= 4 for i in range(4, len(label) - 3))


def _swallows(outer: PiiEntity, inner: PiiEntity) -> bool:
    """A pattern-validated span wins over a shorter one of another type inside it (NHS digits in a phone)."""
    return (
        outer.type != inner.type
        and outer.type not in _CONTAINERS_BY_SCORE
        and outer.start <= inner.start
        and inner.end <= outer.end
        and outer.end - outer.start > inner.end - inner.start
    )


def _without_overlaps(found: list[PiiEntity]) -> list[PiiEntity]:
    """Join overlapping spans of one type; across types keep the strongest (score, priority, length)."""
    merged: list[PiiEntity] = []
    for ent in sorted(found, key=lambda e: (e.type, e.start, e.end)):
        last = merged[-1] if merged else None
        if last is not None and last.type == ent.type and ent.start < last.end:
            merged[-1] = last.model_copy(update={"end": max(last.end, ent.end), "score": max(last.score, ent.score)})
        else:
            merged.append(ent)
    merged = [e for e in merged if not any(_swallows(o, e) for o in merged)]
    ranked = sorted(merged, key=lambda e: (-e.score, _PRIORITY.get(e.type, 99), -(e.end - e.start), e.start))
    chosen: list[PiiEntity] = []
    for ent in ranked:
        if all(ent.end <= other.start or other.end <= ent.start for other in chosen):
            chosen.append(ent)
    return sorted(chosen, key=lambda e: (e.start, e.end))
