"""Rank claims ("Oatfield leads", "Verdalat is the cheapest") checked against the evidence's named figures.

A claim that calls a named brand the leader (largest share), the cheapest (lowest price) or the most
expensive (highest price) is supported when the evidence's figures for two or more names rank that brand
first, and contradicted when they rank another brand first; a negated claim ("X is not the leader") the
other way round.
"""

from __future__ import annotations

import re

from actors.merge.analysis import ClaimView
from actors.merge.evidence import Fact
from actors.merge.numbers import format_quantity

__all__ = ["rank_check"]

_RANKS = (
    ("share", max, "has the largest share",
     re.compile(r"\b(leads?|leader|largest|biggest|number[- ]one|no\.\s?1|dominat\w*)\b", re.I)),
    ("price", min, "is the cheapest",
     re.compile(r"\b(cheapest|lowest[- ]priced|lowest (?:shelf )?price|least expensive|most affordable)\b", re.I)),
    ("price", max, "is the most expensive",
     re.compile(r"\b(most expensive|priciest|highest[- ]priced|highest (?:shelf )?price)\b", re.I)),
)


def rank_check(view: ClaimView, facts: list[Fact]) -> tuple[str, str] | None:
    """("supported" | "contradicted", reason) for a rank claim about a named brand, else None."""
    names = {n.lower() for n in view.names if not n.startswith("<")}
    if not names:
        return None
    for topic, pick, phrase, pattern in _RANKS:
        if not pattern.search(view.claim.text):
            continue
        ranked: dict[str, Fact] = {}
        for fact in facts:
            if (topic in fact.topics and len(fact.names) == 1 and fact.quantity.dimension != "year"
                    and (not view.places or not fact.places or view.places & fact.places)):
                ranked.setdefault(next(iter(fact.names)), fact)
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
