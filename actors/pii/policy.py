"""PII policy: which raw detections count, with Presidio's false positives and allow-listed terms removed."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pycountry

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


@dataclass(frozen=True)
class AllowList:
    """Terms never redacted: brand terms (matched inside names too) and places (matched as LOCATION only).

    Example:
        >>> allow = AllowList.of(["Oatly Barista"])
        >>> allow.permits("PERSON", "Oatly"), allow.permits("PERSON", "Maria")
        (True, False)
    """

    terms: frozenset[str] = field(default_factory=frozenset)
    places: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", frozenset(n for n in map(normalize, self.terms) if n))
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
        """Tell whether a detected value of that type is allow-listed."""
        norm = normalize(value.removeprefix("@") if entity_type == "SOCIAL_HANDLE" else value)
        if not norm:
            return False
        if norm in self.terms or (entity_type == "LOCATION" and norm in self.places):
            return True
        if entity_type not in _NER_TYPES:
            return False
        # A name that is part of a brand ("Oatly" of "Oatly Barista") or carries one ("Alpro Professional").
        return any(_has_words(term, norm) or _has_words(norm, term) for term in self.terms)


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


def _has_words(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack) is not None


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
        if not _plausible(text, det.entity_type, start, value) or allow_list.permits(det.entity_type, value):
            continue
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
        cut = max((text.rfind(ch, start, at) for ch in "?=&/:"), default=-1)
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
    if entity_type == "URL":
        return "@" in value or "%40" in value.lower()  # only URLs that carry an email address
    if entity_type == "PHONE_NUMBER":
        digits = sum(ch.isdigit() for ch in value)
        if digits < 7 or YEAR_RANGE_RE.match(value):
            return False
        international = value.startswith(("+", "00"))
        return international or not _ID_LABEL_BEFORE.search(text[max(0, start - 20) : start])
    return True


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
