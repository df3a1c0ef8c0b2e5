"""The figures in collected evidence, read per market: market-level metrics and brand metrics, with their topic.

Shared by the stub providers (which answer from these facts) and the report (its per-market table,
competitor coverage and charts), so both read a data key the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from babel import Locale

from actors.merge.evidence import field_label
from schemas import Evidence

__all__ = ["Fact", "country_label", "facts_of", "market_of", "same_brand"]

_EN = Locale("en")
_KEY_TOPICS = {"value": "size", "size": "size", "sales": "size", "growth": "growth", "share": "share",
               "price": "price", "population": "population"}


@dataclass(frozen=True)
class Fact:
    """One figure of one evidence item: its market, data key, value, brand (for brand keys) and topic."""

    evidence_id: str
    market: str | None
    key: str
    value: float
    brand: str | None
    topic: str | None  # size, growth, share, price, population, or None
    year: int | None = None

    @property
    def label(self) -> str:
        """The key in words: "Oatfield share", "market value"."""
        return field_label(self.key)


def country_label(code: str, locale: Locale | None = None) -> str:
    """A country's name with its code: "Germany (DE)"."""
    return f"{(locale or _EN).territories.get(code, code)} ({code})"


def market_of(item: Evidence, markets: list[str]) -> str | None:
    """The brief market an evidence item is about, from its tool URI, id or text ("country=DE", "-de-", "(DE)")."""
    for code in markets:
        if re.search(rf"(?:country={code}(?![\w])|\({code}\)|-{code.lower()}-)", f"{item.source} {item.id} {item.text}"):
            return code
    return None


def same_brand(a: str, b: str) -> bool:
    """Brand names equal up to case and punctuation ("OATFIELD" and "Oatfield")."""
    def fold(name: str) -> str:
        return re.sub(r"[^0-9a-z]+", " ", name.casefold()).strip()
    return fold(a) == fold(b)


def facts_of(evidence: list[Evidence], markets: list[str]) -> list[Fact]:
    """Every figure in the evidence (years aside: they date the others), in evidence and key order."""
    out = []
    for item in evidence:
        market = market_of(item, markets)
        data = item.data or {}
        year = next((int(v) for k, v in data.items() if k.lower() == "year"), None)
        for key, value in sorted(data.items()):
            if key.lower() == "year":
                continue
            brand = key.rsplit(" ", 1)[0] if " " in key else None
            words = set(re.split(r"[\s_]+", key.lower()))
            topic = next((t for w, t in _KEY_TOPICS.items() if w in words), None)
            out.append(Fact(item.id, market, key, value, brand, topic, year))
    return out
