"""Evidence as checkable facts: every figure in an item's data or text, with its topic, names and places."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from actors.merge.entities import (
    entities,
    mentions,
    names_meet,
    opening_names,
    places,
    word_forms,
)
from actors.merge.numbers import (
    Quantity,
    agree,
    comparable,
    extract_quantities,
    format_quantity,
    is_unit_word,
    parse_unit,
)
from actors.merge.text import (
    DECLINE_WORDS,
    PLACEHOLDER,
    TOPIC_WORDS,
    canonical,
    change_near,
    clause_spans,
    content_words,
    is_base_year,
    is_level,
    negated,
    tokens,
)
from schemas import Evidence

__all__ = ["EvidenceIndex", "Fact", "evidence_names", "field_label", "index_evidence"]


@dataclass(frozen=True)
class Fact:
    """One figure an evidence item states."""

    evidence_id: str
    slot: str  # stable id of the figure: "<evidence id>#<data key>" or "<evidence id>@<offset>"
    quantity: Quantity
    topics: frozenset[str]
    names: frozenset[str]  # lower-cased names the figure is about ("oatfield")
    places: frozenset[str]
    label: str  # how reasons name it: "Oatfield share_pct"
    period: int | None = None  # the year the figure is for, when the item says
    mentioned: frozenset[str] = frozenset()  # lower-cased names anywhere in the item's text
    words: frozenset[str] = frozenset()  # the other words of its clause (text figures): "fast", "slow"
    item_words: frozenset[str] = frozenset()  # every word of its item (text and data keys), canonical

    def describe(self, *, signed: bool = False) -> str:
        """E.g. "ev-de-market: 6.4% (growth_pct)"."""
        return f"{self.evidence_id}: {format_quantity(self.quantity, signed=signed)} ({self.label})"

    @property
    def topic(self) -> str:
        """What the figure is about, in words: "Oatfield share", "pizza share" (no data-key spelling)."""
        if self.label.startswith('"'):
            return " ".join(sorted(self.topics))
        return field_label(self.label)


def field_label(key: str) -> str:
    """A data key in words, its unit left out: "Oatfield share_pct" -> "Oatfield share", "value_eur_m" -> "market
    value", "year" -> "year"."""
    parts = [w for part in key.split() for w in ([part] if PLACEHOLDER.fullmatch(part) else part.split("_"))]
    words = [p for p in parts if p and not is_unit_word(p) and not is_unit_word(p.upper()) and p.lower() != "year"]
    if not words:
        return "year" if "year" in (p.lower() for p in parts) else key
    return " ".join(["market value"] if words == ["value"] else words)


@dataclass(frozen=True)
class EvidenceIndex:
    """The evidence of one merge, by id, with its facts and searchable text."""

    items: dict[str, Evidence]
    facts: tuple[Fact, ...]
    places: dict[str, frozenset[str]]
    words: dict[str, frozenset[str]]  # canonical content words per item
    names: frozenset[str] = frozenset()  # lower-cased names in the items' texts and data keys
    known: frozenset[str] = frozenset()  # the sure ones: data-key brands and names inside sentences (`evidence_names`)

    def facts_of(self, ids: list[str] | None = None) -> list[Fact]:
        """Facts of the given items (all items when `ids` is None)."""
        if ids is None:
            return list(self.facts)
        wanted = set(ids)
        return [f for f in self.facts if f.evidence_id in wanted]

    def knows(self, name: str) -> bool:
        """True when some item names `name`, in full or in part ("Hanako" for "Hanako Cosmetics")."""
        return bool(self.mentions(name)) or names_meet(frozenset([name.lower()]), self.names) > 0

    def mentions(self, name: str) -> list[str]:
        """Ids of the items whose text, data keys or source name `name`."""
        return [i for i, e in self.items.items()
                if mentions(e.text, name) or any(mentions(k, name) for k in (e.data or {})) or mentions(e.source, name)]

    def covered_places(self) -> frozenset[str]:
        """Every country some evidence is about."""
        return frozenset().union(*self.places.values()) if self.places else frozenset()


def _item_period(item: Evidence) -> int | None:
    year = (item.data or {}).get("year")
    if year is not None and float(year).is_integer() and 1900 <= year <= 2100:
        return int(year)
    years = {int(q.value) for q in extract_quantities(item.text)
             if q.dimension == "year" and not is_base_year(item.text, q.start)}
    return years.pop() if len(years) == 1 else None


def _data_facts(item: Evidence, where: frozenset[str], period: int | None, mentioned: frozenset[str]) -> list[Fact]:
    out = []
    for key, value in sorted((item.data or {}).items()):
        parts = key.split(" ")
        name_parts = [p for p in parts[:-1] if p[:1].isupper() or PLACEHOLDER.fullmatch(p)]
        if name_parts:
            name_parts = parts[:-1]  # "Sol y Más share_pct": the brand is everything before the metric key
        spec = " ".join(parts[len(name_parts):])
        country = _key_country(spec)
        if country and country not in where:
            country = None  # "cd_growth_pct" in an item about Germany is about CDs, not Congo
        if country:  # "br_online_share_pct": the figure for Brazil, and "cl" is Chile, not centilitres
            spec = spec.split("_", 1)[1]
        info = parse_unit(spec)
        if info.dimension == "year":
            continue
        q = Quantity(value, info.scale, info.dimension, info.currency, 0, True, topics=info.topics, unit=info.unit,
                     factor=info.factor)
        names = frozenset([" ".join(name_parts).lower()]) if name_parts else frozenset()
        out.append(Fact(item.id, f"{item.id}#{key}", q, frozenset(info.topics), names,
                        frozenset([country]) if country else where, key, period, mentioned))
    return out


def _key_country(spec: str) -> str | None:
    """The country a data key starts with ("br_online_share_pct" -> BR; "uk_…" -> GB), if any."""
    import pycountry

    head, _, rest = spec.partition("_")
    if len(head) != 2 or not rest or not head.isalpha() or not head.islower():
        return None
    code = "GB" if head == "uk" else head.upper()
    return code if pycountry.countries.get(alpha_2=code) is not None else None


def _text_facts(item: Evidence, where: frozenset[str], period: int | None, mentioned: frozenset[str],
                vocabulary: frozenset[str]) -> list[Fact]:
    out = []
    clauses = clause_spans(item.text)
    found = extract_quantities(item.text)
    for q in found:
        if not q.strong or q.dimension == "year":
            continue
        start, end = next(((s, e) for s, e in clauses if s <= q.start < e), (0, len(item.text)))
        clause = item.text[start:end]
        years = {int(y.value) for y in found
                 if y.dimension == "year" and start <= y.start < end and not is_base_year(item.text, y.start)}
        words = frozenset(content_words(clause))
        topics = frozenset(w for w in words if w in TOPIC_WORDS) or words
        change = change_near(item.text, q.start, q.end) if q.dimension in ("percent", "points") else 0
        if change and "share" not in topics:
            topics = topics - {"value"} | {"growth"}  # "up 9% on 2023"
        if is_level(item.text, q.start) and not change:
            topics = topics - {"growth"} or frozenset(content_words(clause)) - {"growth"}  # "fell 2.5 pp to 71 %"
        if "growth" in topics and q.value > 0 and not negated(clause) and (change < 0 or (
                not change and {t.text.lower() for t in tokens(clause)} & DECLINE_WORDS)):
            q = replace(q, value=-q.value)  # "sales declined 2.4%" is a change of -2.4%
        names = frozenset(n.lower() for n in entities(clause, vocabulary=vocabulary))
        snippet = " ".join(clause.split())
        label = f'"{snippet}"' if len(snippet) <= 48 else f'"{snippet[:45].rstrip()}…"'
        out.append(Fact(item.id, f"{item.id}@{q.start}", q, topics, names, places(clause) or where, label,
                        years.pop() if len(years) == 1 else period, mentioned, words - topics))
    return out


def evidence_names(evidence: list[Evidence], vocabulary: frozenset[str]) -> frozenset[str]:
    """Lower-cased names the evidence uses: brands in data keys, names inside its sentences (not openers)."""
    found: set[str] = set()
    for item in evidence:
        for key in item.data or {}:
            parts = key.split(" ")[:-1]
            found.update(p.lower() for p in parts if p[:1].isupper())
        openers = {n.lower() for n in opening_names(item.text, vocabulary=vocabulary)}
        found.update(n.lower() for n in entities(item.text, vocabulary=vocabulary) if n.lower() not in openers)
    return frozenset(found)


def index_evidence(evidence: list[Evidence], vocabulary: frozenset[str] = frozenset()) -> EvidenceIndex:
    """Index the evidence of one merge (later duplicates of an id are ignored); `vocabulary` as in `entities`."""
    items: dict[str, Evidence] = {}
    for item in evidence:
        items.setdefault(item.id, item)
    facts: list[Fact] = []
    where: dict[str, frozenset[str]] = {}
    words: dict[str, frozenset[str]] = {}
    every_name: set[str] = set()
    for item in items.values():
        where[item.id] = places(f"{item.text} {item.source} {item.id}")
        words[item.id] = frozenset(w for _, w in word_forms(item.text))
        period = _item_period(item)
        mentioned = frozenset(n.lower() for n in entities(item.text, vocabulary=vocabulary))
        every_name |= mentioned
        data = _data_facts(item, where[item.id], period, mentioned)
        text = [f for f in _text_facts(item, where[item.id], period, mentioned, vocabulary)
                if not any(comparable(f.quantity, d.quantity) and agree(f.quantity, d.quantity) for d in data)]
        keys = frozenset(canonical(w) for key in item.data or {} for w in re.findall(r"[A-Za-z]+", key))
        facts += [replace(f, item_words=words[item.id] | keys) for f in data + text]
    known = evidence_names(list(items.values()), vocabulary)
    return EvidenceIndex(items, tuple(facts), where, words, frozenset(every_name) | known, known)
