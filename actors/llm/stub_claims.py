"""What the stub providers answer: claims for every question and market of a brief, drawn from the evidence.

A stub stands in for a model in demos and tests, so its answer has the shape a good model's has:
findings (figures the evidence states), insights (what they mean, across brands or markets) and one
or two recommendations per question, each tied to its question and market and citing its evidence.
Figures are written the way the report writes them, so the merge can ground every one of them.
Providers skip a deterministic fifth of the findings, so merges see overlap and gaps.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

from actors.figures import format_measure
from actors.market_facts import Fact as _Fact
from actors.market_facts import country_label as _country
from actors.market_facts import facts_of
from schemas import Claim, Evidence
from schemas.brief import Brief

__all__ = ["StubAnswer", "stub_answer"]

# Which brief questions a data key answers: a question and a key meet when they share a topic.
_TOPICS: dict[str, frozenset[str]] = {
    "size": frozenset({"large", "size", "big", "worth", "value", "sales", "revenue", "volume"}),
    "growth": frozenset({"grow", "grows", "growing", "growth", "fast", "trend", "trends", "cagr"}),
    "share": frozenset({"lead", "leads", "leader", "leaders", "leading", "competitor", "competitors", "share",
                        "brand", "brands", "player", "players", "rival", "rivals"}),
    "price": frozenset({"price", "prices", "priced", "pricing", "cost", "costs", "premium", "cheap"}),
    "population": frozenset({"population", "inhabitants", "people"}),
}
_TOP_BRANDS = 2


@dataclass(frozen=True)
class StubAnswer:
    """A stub provider's answer: its claims and a short summary."""

    claims: list[Claim]
    summary: str | None


def _question_topics(question: str) -> set[str]:
    words = set(re.findall(r"[a-z]+", question.lower()))
    return {topic for topic, vocabulary in _TOPICS.items() if words & vocabulary}


def _skips(provider: str, fact: _Fact) -> bool:
    digest = hashlib.sha256(f"{provider}:{fact.evidence_id}:{fact.key}".encode()).digest()
    return digest[0] % 5 == 0


def _finding(fact: _Fact) -> str:
    return f"{fact.label[:1].upper()}{fact.label[1:]} in {_country(fact.market) if fact.market else 'the data'}: " \
           f"{format_measure(fact.value, fact.key)}."


class _Writer:
    """Collects claims with running ids."""

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.claims: list[Claim] = []

    def add(self, text: str, facts: list[_Fact], *, question: int, market: str | None, kind: str,
            value: float | None = None, unit: str | None = None) -> None:
        ids = list(dict.fromkeys(f.evidence_id for f in facts))
        self.claims.append(Claim(id=f"{self.provider}-{len(self.claims) + 1}", text=text, evidence_ids=ids,
                                 value=value, unit=unit, question=question, market=market, kind=kind))  # type: ignore[arg-type]


def _brand_insight(facts: list[_Fact], market: str) -> tuple[str, list[_Fact]] | None:
    shares = sorted((f for f in facts if f.brand and f.topic == "share"), key=lambda f: -f.value)
    if len(shares) < 2:
        return None
    first, second = shares[0], shares[1]
    prices = {f.brand: f for f in facts if f.brand and f.topic == "price"}
    priced = f" at {format_measure(prices[first.brand].value, prices[first.brand].key)}" if first.brand in prices else ""
    text = (f"{first.brand} leads in {_country(market)} with {format_measure(first.value, first.key)} share{priced}, "
            f"ahead of {second.brand} at {format_measure(second.value, second.key)}.")
    used = [first, second] + ([prices[first.brand]] if first.brand in prices else [])
    return text, used


def _spread_insight(facts: list[_Fact]) -> list[tuple[str, list[_Fact]]]:
    """For each market-level metric known in two or more markets: where it is highest and lowest."""
    by_metric: dict[str, list[_Fact]] = defaultdict(list)
    for fact in facts:
        if not fact.brand and fact.market:
            by_metric[fact.key].append(fact)
    out = []
    for key, group in by_metric.items():
        if len({f.market for f in group}) < 2:
            continue
        high, low = max(group, key=lambda f: f.value), min(group, key=lambda f: f.value)
        label = group[0].label
        text = (f"{label[:1].upper()}{label[1:]} is highest in {_country(high.market or '')} "
                f"({format_measure(high.value, key)}) and lowest in {_country(low.market or '')} "
                f"({format_measure(low.value, key)}).")
        out.append((text, [high, low]))
    return out


def _recommendation(brief: Brief, facts: list[_Fact]) -> tuple[str, list[_Fact], str | None] | None:
    """One recommendation from a question's facts: where to launch first, or how to price against the leader."""
    product = brief.product.name
    shares = [f for f in facts if f.brand and f.topic == "share" and f.market]
    prices: dict[tuple[str | None, str | None], _Fact] = {
        (f.market, f.brand): f for f in facts if f.brand and f.topic == "price"}
    if shares:
        best = max(shares, key=lambda f: f.value)
        price = prices.get((best.market, best.brand))
        if price is not None and brief.product.price is not None:
            side = "above" if brief.product.price > price.value else "at or below"
            text = (f"In {_country(best.market or '')}, position {product} against {best.brand}, the share leader "
                    f"at {format_measure(price.value, price.key)}: its price sits {side} the leader's, so lead with "
                    f"{'quality' if side == 'above' else 'value'}.")
            return text, [best, price], best.market
        text = (f"In {_country(best.market or '')}, benchmark {product} against {best.brand}, the share leader "
                f"({format_measure(best.value, best.key)}).")
        return text, [best], best.market
    market_level = [f for f in facts if not f.brand and f.market and f.topic in ("size", "growth")]
    if market_level:
        growth = [f for f in market_level if f.topic == "growth"]
        best = max(growth or market_level, key=lambda f: f.value)
        text = (f"Launch {product} first in {_country(best.market or '')}, where {best.label} is highest "
                f"({format_measure(best.value, best.key)}).")
        return text, [best], best.market
    return None


def stub_answer(provider: str, brief: Brief, evidence: list[Evidence]) -> StubAnswer:
    """Claims for every question and market of the brief, drawn from the evidence (deterministic per provider)."""
    facts = facts_of(evidence, brief.markets)
    topics = [_question_topics(q) for q in brief.questions]
    assigned: dict[int, list[_Fact]] = defaultdict(list)
    for fact in facts:
        scores = [int(fact.topic in t) for t in topics]
        if fact.topic and max(scores, default=0) > 0:
            assigned[scores.index(max(scores))].append(fact)
    writer = _Writer(provider)
    unanswered: list[int] = []
    for q in range(len(brief.questions)):
        mine = assigned.get(q, [])
        if not mine:  # the data does not speak to this question: say what to do instead of guessing
            where = ", ".join(_country(m) for m in brief.markets)
            writer.add(f"Question {q + 1} needs primary research in {where}: the collected data does not answer "
                       "it, so test it with the target audience before the launch.", [],
                       question=q, market=brief.markets[0] if len(brief.markets) == 1 else None,
                       kind="recommendation")
            unanswered.append(q + 1)
            continue
        for market in brief.markets:
            here = [f for f in mine if f.market == market]
            brands = sorted({f.brand for f in here if f.brand and f.topic == "share"},
                            key=lambda b: -max(f.value for f in here if f.brand == b and f.topic == "share"))
            shown = [f for f in here if not f.brand or f.brand in brands[:_TOP_BRANDS]]
            kept = [f for f in shown if not _skips(provider, f)] or shown[:1]
            for fact in kept:
                writer.add(_finding(fact), [fact], question=q, market=market, kind="finding",
                           value=fact.value, unit=fact.key)
            insight = _brand_insight(here, market)
            if insight:
                writer.add(insight[0], insight[1], question=q, market=market, kind="insight")
        for text, used in _spread_insight(mine):
            writer.add(text, used, question=q, market=None, kind="insight")
        recommendation = _recommendation(brief, mine)
        if recommendation:
            writer.add(recommendation[0], recommendation[1], question=q, market=recommendation[2],
                       kind="recommendation")
    checked = sum(1 for c in writer.claims if c.kind == "finding")
    summary = (f"{checked} figures from the collected data answer the brief for {', '.join(brief.markets)}"
               + (f"; question {', '.join(map(str, unanswered))} needs primary research." if unanswered else "."))
    return StubAnswer(claims=writer.claims, summary=summary)
