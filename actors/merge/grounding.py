"""Grounding one claim against the evidence it cites and the whole evidence set.

- Cited ids must exist; an id that does not is reported ("cites ev-x, which does not exist").
- Each figure is aligned to the evidence figure it is about: a related dimension (any currency, percent or
  points), compatible places, names and year, best topic match ("growth", "share", "price", ...); a change
  never aligns with a level. The cited items are tried first, then the rest of the set. A figure that agrees
  (numbers.agree) supports the claim; a confident alignment that disagrees contradicts it, naming the field,
  both values and why (opposite direction, another currency or unit, a magnitude slip); the evidence's exact
  figure given for another year contradicts it too (another period); anything else is unverified.
- Names (brands, competitors, placeholders) must appear somewhere in the evidence; countries the claim is
  about must be covered by some evidence item.
- A trend without a figure ("the market is shrinking") is checked against the growth figures' sign.
- A claim with no figures is supported when most of its words occur in one evidence item (with the same trend,
  never when negated); a negated claim whose words match an item's statement is contradicted.

Result: `contradicted` if anything contradicts; `supported` if everything checkable was confirmed and nothing
was missing; otherwise `unverifiable` — "could not be judged", which is not "false".
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.merge.analysis import ClaimView, Figure
from actors.merge.entities import entities, mentions, names_meet
from actors.merge.evidence import EvidenceIndex, Fact
from actors.merge.numbers import (
    Quantity,
    agree,
    format_quantity,
    magnitude_slip,
    related,
    unit_slip,
)
from actors.merge.ranking import rank_check, text_leader_check
from actors.merge.text import TOPIC_WORDS, negated, quoted_only
from actors.merge.text import trend as text_trend

__all__ = ["LEXICAL_SUPPORT", "FigureCheck", "Verdict", "covers", "ground_claim"]

LEXICAL_SUPPORT = 0.6


@dataclass(frozen=True)
class FigureCheck:
    """How one figure of a claim fared: supported, contradicted or unverified, and against which fact."""

    outcome: str
    fact: Fact | None
    confident: bool
    reason: str
    other_period: bool = False  # the fact is the same metric in another year than the claim's

    @property
    def slot(self) -> str | None:
        """The evidence figure this check is about; a figure for another year is a slot of its own."""
        if self.fact is None:
            return None
        return f"{self.fact.slot}|{self.fact.period}" if self.other_period else self.fact.slot


@dataclass(frozen=True)
class Verdict:
    """The grounding of one claim, with reasons that name the evidence."""

    grounding: str
    reasons: tuple[str, ...]
    unknown_ids: tuple[str, ...]
    checks: tuple[FigureCheck, ...]

    def slots(self) -> dict[int, str]:
        """Figure index -> the evidence figure it is confidently about (or matched)."""
        return {i: c.slot for i, c in enumerate(self.checks)
                if c.slot is not None and (c.confident or c.outcome == "supported")}

    def contradiction(self) -> str | None:
        """The first reason that shows the claim false."""
        return next((c.reason for c in self.checks if c.outcome == "contradicted"), None)


def _score(fig: Figure, fact: Fact) -> tuple[float, bool] | None:
    """Alignment score of a figure to a fact, and whether a mismatch would be a confident contradiction."""
    if not related(fig.quantity, fact.quantity):
        return None
    if fig.places and fact.places and not fig.places & fact.places:
        return None
    names = _real_names(fig.names)
    shared_names = names_meet(names, fact.names)
    if names and fact.names and not shared_names:
        return None
    primary = fig.primary is not None and fig.primary in fact.topics
    metric_clash = _metric_clash(fig, fact)
    others = len((fig.topics - {fig.primary}) & fact.topics)
    context = len(fig.context & fact.topics)
    same_dimension = fig.quantity.dimension == fact.quantity.dimension != "number"
    extra = len(fact.topics - fig.topics - fig.context)  # what the fact is about that the claim does not say
    # a text figure's clause words tell "fast charging … EUR 0.59" from "slow charging … EUR 0.36"
    score = (3 * shared_names + 2 * primary + others + context + same_dimension + 0.5 * len(fig.context & fact.words)
             + 0.5 * bool(fig.places & fact.places) - 0.25 * extra - 2 * metric_clash)
    # a brand's figure may align with an unnamed figure of an item that is all about that brand
    named_alike = bool(names) == bool(fact.names) or (bool(names) and names_meet(names, fact.mentioned) == len(names))
    covered = bool(fact.topics) and fact.topics <= fig.topics | fig.context
    # a plain number never contradicts a figure with a unit (or the other way round)
    same_kind = (fig.quantity.dimension == "number") == (fact.quantity.dimension == "number")
    return score, (named_alike and same_kind and not metric_clash
                   and (shared_names > 0 or primary or context > 0 or covered))


SUBJECT_COVER = 0.5  # share of a figure's subject words its evidence item must hold to be contradicted by it


_GENERIC = frozenset("market category segment sector industry business total overall averag annual combin "
                     "retail consumer customer compani firm brand product reach hit stood stand came come record "
                     "recorded post register amount generat deliver achiev".split())


def covers(fact: Fact, fig: Figure) -> bool:
    """True when the fact's item speaks of what the figure is about: at least half of the figure's words (generic
    ones such as "market" aside); "hi-res audio subscriptions grew 40 %" is not what a music-market item says."""
    words = {w for w in fig.phrase if len(w) > 2 and w in fig.context} - _GENERIC
    if len(words) < 2 or not fact.item_words or _real_names(fig.names) & fact.names:
        return True  # one word (often the verb) is too little to tell a segment from a paraphrase
    return len(words & fact.item_words) / len(words) >= SUBJECT_COVER


def _metric_clash(fig: Figure, fact: Fact) -> bool:
    """True when the figure's topic word says another metric: "rose 3 %" is a change, "a 41.5 % share" a level."""
    return fig.primary is not None and fig.primary not in fact.topics and (
        bool(fact.topics & TOPIC_WORDS) or fig.primary == "growth")


def _real_names(names: frozenset[str]) -> frozenset[str]:
    """Names without person placeholders (a person quoted is a source, not the subject; a company is one)."""
    return frozenset(n for n in names if not quoted_only(n))


def _mismatch(q: Quantity, fact: Fact) -> str:
    """Why a figure is not the fact's: "; opposite direction", "; another currency (EUR, not CHF)", a magnitude slip."""
    if q.value * fact.quantity.value < 0:
        return "; opposite direction"
    named = unit_slip(q, fact.quantity)
    if named:
        return f"; {named}"
    slip = magnitude_slip(q, fact.quantity)
    return f"; off by a factor of {10 ** abs(slip):,} (magnitude slip)" if slip else ""


def _check(fig: Figure, facts: list[Fact], *, cited: bool) -> FigureCheck | None:
    scored = [(s, c, f) for f in facts if (r := _score(fig, f)) is not None for s, c in [r]]
    if not scored:
        return None
    q = fig.quantity
    top = max(s for s, _, _ in scored)
    best = [(c, f) for s, c, f in scored if s == top]
    where = "" if cited else " (not cited)"
    for _, fact in best:
        if agree(q, fact.quantity):
            return FigureCheck("supported", fact, True, f"{format_quantity(q)} matches {fact.describe()}{where}")
    # the one figure of its kind in the items a claim cites is what the claim is about ("215 million tickets"
    # citing an item with one count and one amount of money)
    alike = [f for _, _, f in scored if (f.quantity.dimension == "number") == (q.dimension == "number")]
    # the same number in another unit of the same kind is a unit slip of that figure ("465,000 kg" for 465,000 t)
    slipped = [f for _, _, f in scored if unit_slip(q, f.quantity).startswith("another unit")]
    if len(slipped) == 1 and not any(agree(q, f.quantity) for _, _, f in scored):
        fact = slipped[0]
        return FigureCheck("contradicted", fact, True, f"{format_quantity(q)} contradicts {fact.describe()}"
                           f"{_mismatch(q, fact)}{where}")
    confident = any(c for c, _ in best) or (
        cited and len(alike) == 1 and bool(_real_names(fig.names)) == bool(alike[0].names)
        and not _metric_clash(fig, alike[0]))
    candidate = next(f for c, f in best if c) if any(c for c, _ in best) else alike[0] if len(alike) == 1 else None
    if candidate is not None and not covers(candidate, fig):
        confident = False  # "hi-res audio subscriptions grew 40 %" is a segment the item says nothing about
    if not any(c for c, _ in best) and len(alike) == 1 and agree(q, alike[0].quantity):
        return FigureCheck("supported", alike[0], True, f"{format_quantity(q)} matches {alike[0].describe()}{where}")
    if not confident:
        for _, _, fact in scored:
            if agree(q, fact.quantity):
                return FigureCheck("supported", fact, False, f"{format_quantity(q)} matches {fact.describe()}{where}")
        return FigureCheck("unverified", None, False, "")
    fact = next(f for c, f in best if c) if any(c for c, _ in best) else alike[0] if len(alike) == 1 else best[0][1]
    signed = q.value * fact.quantity.value < 0
    return FigureCheck("contradicted", fact, True, f"{format_quantity(q, signed=signed)} contradicts "
                       f"{fact.describe(signed=signed)}{_mismatch(q, fact)}{where}")


def _other_period(fig: Figure, facts: list[Fact]) -> FigureCheck | None:
    """The fact's exact figure given for another year: a period contradiction (another value is unverifiable)."""
    found = _check(fig, facts, cited=True)
    if found is None or found.fact is None or not found.confident:
        return None
    fact = found.fact
    if agree(fig.quantity, fact.quantity):
        return FigureCheck("contradicted", fact, True, f"{format_quantity(fig.quantity)} is {fact.describe()} for "
                           f"{fact.period}, not {fig.period} (another period)", other_period=True)
    return FigureCheck("unverified", fact, True, f"{format_quantity(fig.quantity)} for {fig.period}: the evidence "
                       f"gives {fact.describe()} for {fact.period} only", other_period=True)


def _check_figure(fig: Figure, cited: list[Fact], others: list[Fact], cited_ids: list[str]) -> FigureCheck:
    def same_period(facts: list[Fact]) -> list[Fact]:
        return [f for f in facts if fig.period is None or f.period is None or f.period == fig.period]

    first = _check(fig, same_period(cited), cited=True)
    if first is not None and first.outcome != "unverified":
        return first
    second = _check(fig, same_period(others), cited=False)
    if second is not None and (second.outcome == "supported" or (second.outcome == "contradicted" and fig.places)):
        return second
    if fig.period is not None:
        dated = [f for f in cited + others if f.period is not None and f.period != fig.period]
        period = _other_period(fig, dated)
        if period is not None:
            return period
    scope = ", ".join(cited_ids) if cited_ids else "the evidence"
    return FigureCheck("unverified", None, False, f"{format_quantity(fig.quantity)} not found in {scope}")


def _trend_check(view: ClaimView, facts: list[Fact]) -> tuple[str, str] | None:
    growth = [f for f in facts if "growth" in f.topics and f.quantity.dimension == "percent"
              and (not view.places or not f.places or view.places & f.places)]
    if not view.trend or not growth or any(fig.primary == "growth" for fig in view.figures):
        return None
    signs = {1 if f.quantity.value > 0 else -1 for f in growth if f.quantity.value}
    fact = growth[0]
    if signs == {view.trend}:
        return "supported", f"its trend matches {fact.describe()}"
    if signs == {-view.trend}:
        word = "grows" if view.trend > 0 else "declines"
        return "contradicted", f"says it {word}, but {fact.describe()}"
    return None


def _lexical(view: ClaimView, index: EvidenceIndex, ids: list[str], *, opposite: bool = False) -> str | None:
    """An item that says what the claim says in most of its words (with the same trend); `opposite`: the
    item a negated claim denies (the item says it, the claim says it is not so)."""
    words = set(view.words)
    if not words or view.negated != opposite:
        return None
    for item_id in ids:
        text = index.items[item_id].text
        direction = text_trend(text)
        if len(words & index.words[item_id]) / len(words) >= LEXICAL_SUPPORT and not negated(text) \
                and (not view.trend or direction == (-view.trend if opposite else view.trend)):
            return item_id
    return None


_ROLES = ({"headquarter"}, {"ceo", "chief", "led", "head"}, {"founder", "found"},
          {"owner", "own", "acquir", "parent", "subsidiary"}, {"capital"})
_ROLE_WORDS = frozenset().union(*_ROLES)


def _exclusive_clash(view: ClaimView, index: EvidenceIndex, ids: list[str]) -> str | None:
    """A reason when an item states the same one-of-a-kind fact (headquarters, chief executive, owner) about the
    claim's subject with someone else in the role: "based in Paris" against "headquartered in Grasse"."""
    roles = set(view.words) & _ROLE_WORDS
    if not view.exclusive or view.negated or not roles:
        return None
    same_role = frozenset().union(*(group for group in _ROLES if group & roles))  # "chief executive" / "CEO"
    for item_id in ids:
        text = index.items[item_id].text
        if not same_role & index.words[item_id]:
            continue
        said = [n for n in view.names if mentions(text, n)]
        unsaid = [n for n in view.names if not mentions(text, n)]
        if not said or not unsaid:
            continue
        claimed = frozenset(n.lower() for n in view.names)
        others = [e for e in entities(text) if not names_meet(frozenset([e.lower()]), claimed)]
        if others:
            return f"{item_id} names {others[0]}, not {unsaid[0]}"
    return None


def ground_claim(view: ClaimView, index: EvidenceIndex) -> Verdict:
    """Check one claim against the evidence; see the module docstring for the rules."""
    claim = view.claim
    unknown = tuple(i for i in claim.evidence_ids if i not in index.items)
    cited_ids = [i for i in dict.fromkeys(claim.evidence_ids) if i in index.items]
    reasons = [f"cites {i}, which does not exist in the evidence" for i in unknown]
    cited = index.facts_of(cited_ids)
    others = [f for f in index.facts if f.evidence_id not in set(cited_ids)]
    checks = tuple(_check_figure(fig, cited, others, cited_ids) for fig in view.figures)
    reasons += [c.reason for c in checks]
    missing = [f"names {name}, which no evidence mentions" for name in view.names if not index.knows(name)]
    covered = index.covered_places()
    if covered:
        missing += [f"is about {code}, which no evidence covers" for code in sorted(view.places - covered)]
    reasons += missing
    trend = _trend_check(view, cited or index.facts_of())
    rank = rank_check(view, cited) or rank_check(view, index.facts_of()) or text_leader_check(
        view, {i: index.items[i].text for i in cited_ids or list(index.items)})
    reasons += [r[1] for r in (trend, rank) if r]
    clash = None if view.figures else _exclusive_clash(view, index, cited_ids or list(index.items))
    if clash:
        reasons.append(clash)
    contradicted = bool(clash) or any(c.outcome == "contradicted" for c in checks) or any(
        r and r[0] == "contradicted" for r in (trend, rank))
    if contradicted:
        grounding = "contradicted"
    elif missing:
        grounding = "unverifiable"
    elif checks:
        grounding = "supported" if all(c.outcome == "supported" for c in checks) else "unverifiable"
    else:
        uncited = [i for i in index.items if i not in cited_ids]
        item = _lexical(view, index, cited_ids) or _lexical(view, index, uncited)
        denied = None if item else _lexical(view, index, cited_ids, opposite=True) or _lexical(
            view, index, uncited, opposite=True)
        if item:
            reasons.append(f"its wording matches {item}" + ("" if item in cited_ids else " (not cited)"))
        if denied:
            reasons.append(f"denies what {denied} says" + ("" if denied in cited_ids else " (not cited)"))
        grounding = "supported" if item or any(r and r[0] == "supported" for r in (trend, rank)) else "unverifiable"
        grounding = "contradicted" if denied else grounding
        if grounding == "unverifiable":
            reasons.append("no evidence confirms or contradicts it" + (" (negated statement)" if view.negated else ""))
    return Verdict(grounding, tuple(r for r in reasons if r), unknown, checks)
