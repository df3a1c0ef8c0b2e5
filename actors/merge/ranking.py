"""Rank claims ("Oatfield leads", "Verdalat is the cheapest") checked against the evidence's named figures.

A claim that calls a named brand the leader (largest share), the cheapest (lowest price) or the most
expensive (highest price) is supported when the evidence's figures for two or more names rank that brand
first, and contradicted when they rank another brand first; a negated claim ("X is not the leader") the
other way round.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from actors.merge.analysis import ClaimView
from actors.merge.entities import entities, is_big_city, mentions, names_meet
from actors.merge.evidence import Fact
from actors.merge.numbers import format_quantity
from actors.merge.text import canonical

__all__ = ["rank_check", "text_leader_check"]

_RANKS = (
    ("share", max, "has the largest share",
     # "leading" as in "the leading brand", not "among the leading brands"
     re.compile(r"\b(leads?|(?<!among )(?<!among the )(?<!of the )(?<!of )leading(?!(?:\s+[\w-]+){0,2}?\s+\w+s\b)"
                r"|leader|largest|biggest|number[- ]one|no\.\s?1|dominat\w*|best[- ]selling|top[- ]selling|led by)\b",
                re.I)),
    ("price", min, "is the cheapest",
     re.compile(r"\b(cheapest|lowest[- ]priced|lowest (?:shelf )?price|least expensive|most affordable)\b", re.I)),
    ("price", max, "is the most expensive",
     re.compile(r"\b(most expensive|priciest|highest[- ]priced|highest (?:shelf )?price)\b", re.I)),
)


_BY = re.compile(r"(?<!followed )(?<!owned )\b[Bb]y\s+(?:the\s+)?(?:number\s+of\s+|total\s+)?([a-z][\w-]*)")
_MOST = re.compile(r"\bmost[- ](?!expensive\b|affordable\b|popular\b|of\b|important\b|common\b)([a-z][\w-]*)", re.I)


Rank = tuple[str, Callable[..., str], str, re.Pattern[str]]


def _ranks(text: str) -> list[Rank]:
    """The rank patterns, the leader's measured by what the claim names: "largest by rooms", "most downloaded"."""
    by = _BY.search(text)
    most = _MOST.search(text)
    ranks: list[Rank] = list(_RANKS)
    if by is not None:
        ranks[0] = (canonical(by.group(1)), max, f"ranks first by {by.group(1).lower()}", _RANKS[0][3])
    if most is not None:
        ranks.append((canonical(most.group(1)), max, f"is the most {most.group(1).lower()}", _MOST))
    return ranks[1:] + ranks[:1]  # "the cheapest leading brand" is about price: the specific ranks first


def _ranked(view: ClaimView, facts: list[Fact], topic: str) -> dict[str, Fact]:
    """Each named brand's figure for `topic` (first one), in the claim's places."""
    ranked: dict[str, Fact] = {}
    for fact in facts:
        if (topic in fact.topics and len(fact.names) == 1 and fact.quantity.dimension != "year"
                and (not view.places or not fact.places or view.places & fact.places)):
            ranked.setdefault(next(iter(fact.names)), fact)
    return ranked


def rank_check(view: ClaimView, facts: list[Fact]) -> tuple[str, str] | None:
    """("supported" | "contradicted", reason) for a rank claim about a named brand, else None."""
    names = {n.lower() for n in view.names if not n.startswith("<")}
    if not names:
        return None
    for topic, pick, phrase, pattern in _ranks(view.claim.text):
        if not pattern.search(view.claim.text):
            continue
        ranked = _ranked(view, facts, topic)
        if len(ranked) < 2 and pattern is _RANKS[0][3] and topic == "share":
            # "the leading service" where the evidence ranks services by another measure (subscribers)
            measures = Counter(t for f in facts if len(f.names) == 1 for t in f.topics)
            topic = next((t for t, n in measures.most_common() if n >= 2), topic)
            ranked = _ranked(view, facts, topic)
        if len(ranked) < 2 or not names & set(ranked):
            continue
        top = pick(ranked, key=lambda n: (ranked[n].quantity.base, n))
        fact = ranked[top]
        figure = format_quantity(fact.quantity)
        others = ", ".join(sorted(names & set(ranked) - {top})).title()
        reason = f"{fact.evidence_id}: {top.title()}{f', not {others},' if others else ''} {phrase} ({figure})"
        holds = top in names
        return ("supported" if holds != view.negated else "contradicted"), reason
    return None


_SENTENCE = re.compile(r"[^.;]+")


def text_leader_check(view: ClaimView, items: dict[str, str]) -> tuple[str, str] | None:
    """("supported" | "contradicted", reason) for a leader claim without figures, from an item's own words:
    "Solenne was the best-selling sun care brand …, followed by Dermalis" makes "Dermalis is the top-selling
    brand" contradicted. Only when the item names the claim's brand too (it speaks of the same field)."""
    if not view.superlative or view.figures or view.negated:
        return None
    names = {n.lower() for n in view.names if not n.startswith("<")}
    if not names:
        return None
    leader_word = _RANKS[0][3]
    for item_id, text in items.items():
        if not any(mentions(text, n) for n in names):
            continue
        for sentence in _SENTENCE.findall(text):
            found = leader_word.search(sentence)
            if found is None:
                continue
            # the sentence's subject: its first name ("Solenne was the best-selling …, followed by Dermalis")
            known = frozenset(w for n in names for w in [n, n.split()[0]])
            before = [n for n in entities(sentence[:found.start()], known=known) if not n.startswith("<")
                      and not is_big_city(n)]
            after = [n for n in entities(sentence[found.end():], known=known) if not n.startswith("<")
                     and not is_big_city(n)]
            if not before and not after:
                continue
            subject = (before or after)[0]
            if names_meet(frozenset([subject.lower()]), frozenset(names)):
                return "supported", f"{item_id} names {subject} the leader"
            if any(mentions(sentence, n) for n in names):
                return "contradicted", f"{item_id} names {subject}, not {', '.join(sorted(names)).title()}, the leader"
    return None
