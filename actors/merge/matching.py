"""Matching claims across providers: which say the same thing, which contradict each other.

Two claims from different providers are compared on
- words: IDF-weighted cosine of their canonical content words (placeholders are words, countries are
  "@DE", numbers are left to the figures), optionally blended with sentence-embedding similarity;
- figures: two figures are about the same quantity when grounding aligned them to the same evidence
  figure, or when they share a related dimension (money in any currency, percent and points), metric (topic
  word or counted word), names, place and period; they agree within tolerance or conflict; the same figure
  for different years is a period conflict, different figures for different years are different quantities;
- polarity: negation and trend direction ("grows" / "shrinks").

`same` when nothing conflicts, polarity and flag status are equal, and either a figure agrees (with some
shared wording) or the wording alone is close; never when places, names or evidence figures are disjoint.
`conflict` when a shared quantity's values differ, when near-identical wording has opposite polarity, or
when both name a different leader. Groups hold at most one claim per provider and are complete: every
pair inside a group is `same` (no chaining).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actors.merge.analysis import ClaimView, Figure
from actors.merge.entities import names_meet, same_names
from actors.merge.grounding import Verdict, covers
from actors.merge.numbers import agree, related
from actors.merge.text import quoted_only

__all__ = ["SAME_WORDING", "Conflict", "Matcher", "Similarity", "group_claims", "idf_weights"]

SAME_WORDING = 0.5  # word similarity at which two claims without a shared figure are the same claim
FIGURE_WORDING = 0.15  # word similarity needed besides an agreeing figure
CONFLICT_WORDING = 0.3  # word similarity needed for a figure conflict outside a shared evidence figure
POLARITY_WORDING = 0.5  # word similarity at which opposite polarity is a disagreement
SUBJECT_OVERLAP = 0.5  # share of the shorter figure context two unaligned figures must share to be one quantity

Similarity = Callable[[int, int], float]


@dataclass(frozen=True)
class Conflict:
    """Two claims (indices into the views) that contradict each other, and on what."""

    a: int
    b: int
    kind: str  # numeric | period | polarity | fact
    topic: str
    figures: tuple[tuple[int, int], tuple[int, int]] | None = None  # (claim, figure) on each side, for quantities


def idf_weights(documents: Sequence[Sequence[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of every word."""
    df: Counter[str] = Counter(w for doc in documents for w in set(doc))
    n = len(documents)
    return {w: 1.0 + math.log((n + 1) / (c + 1)) for w, c in df.items()}


def word_similarity(a: Sequence[str], b: Sequence[str], idf: dict[str, float], *,
                    exclude: frozenset[str] = frozenset()) -> float:
    """IDF-weighted cosine of two word sets."""
    sa, sb = set(a) - exclude, set(b) - exclude
    if not sa or not sb:
        return 0.0
    weight = {w: idf.get(w, 1.0) ** 2 for w in sa | sb}
    shared = sum(weight[w] for w in sa & sb)
    return shared / math.sqrt(sum(weight[w] for w in sa) * sum(weight[w] for w in sb))


def _clean_names(fig: Figure) -> frozenset[str]:
    return frozenset(n for n in fig.names if not quoted_only(n))


def _about_same(fa: Figure, fb: Figure, slot_a: str | None, slot_b: str | None,
                names: tuple[frozenset[str], frozenset[str]], periods: tuple[int | None, int | None]) -> str | None:
    """"same" when two figures state the same quantity, "period" when the same metric for another year, else None."""
    other_year = None not in periods and periods[0] != periods[1]
    if slot_a is not None and slot_b is not None:
        if slot_a.split("|")[0] != slot_b.split("|")[0]:
            return None
        return "period" if other_year or slot_a != slot_b else "same"
    qa, qb = fa.quantity, fb.quantity
    if not related(qa, qb) or (qa.dimension != qb.dimension and fa.primary is None):
        return None  # a plain number meets a figure with a unit only through a topic word ("share", "value")
    if fa.places and fb.places and not fa.places & fb.places:
        return None
    if fa.metric is None or fa.metric != fb.metric or not same_names(*names):
        return None
    ca, cb = ({w for w in f.context if len(w) > 2} for f in (fa, fb))
    if ca and cb and len(ca & cb) / min(len(ca), len(cb)) < SUBJECT_OVERLAP:
        return None  # "hi-res audio subscriptions grew 40 %" and "music revenues grew 6 %": two subjects
    return "period" if other_year else "same"


@dataclass(frozen=True)
class FigurePair:
    """Two figures of two claims about the same metric."""

    x: int
    y: int
    agree: bool
    same_slot: bool  # grounding aligned both to the same evidence figure
    period: bool  # the same metric for different years
    loose: bool = False  # met only through a loose metric ("x % of ...")


@dataclass
class Matcher:
    """Pairwise relations between the claims of one merge."""

    views: list[ClaimView]
    verdicts: list[Verdict]
    similarity: Similarity
    known_names: frozenset[str] = frozenset()  # lower-cased names the evidence mentions

    def __post_init__(self) -> None:
        self._slots = [v.slots() for v in self.verdicts]
        self._facts = {c.slot: c.fact for v in self.verdicts for c in v.checks if c.slot is not None and c.fact}
        self.links: list[tuple[tuple[int, int], tuple[int, int]]] = []  # figures found to state one quantity
        self._flagged = [v.grounding == "contradicted" or bool(v.unknown_ids) for v in self.verdicts]

    def _figures(self, i: int, j: int) -> tuple[list[FigurePair], bool]:
        """Figure pairs about the same metric, and whether the claims' evidence figures are disjoint."""
        a, b = self.views[i], self.views[j]
        # a capitalized sentence opener the evidence does not know may be a common word: left out on both sides
        unsure = (a.opening | b.opening) - self.known_names
        pairs = []
        for x, fa in enumerate(a.figures):
            for y, fb in enumerate(b.figures):
                sa, sb = self._slots[i].get(x), self._slots[j].get(y)
                # one figure is the evidence's, the other speaks of something its item does not ("flavoured gin")
                known = self._facts.get(sa or sb or "") if (sa is None) != (sb is None) else None
                if known is not None and not covers(known, fb if sa else fa):
                    continue
                kind = _about_same(fa, fb, sa, sb, (_clean_names(fa) - unsure, _clean_names(fb) - unsure),
                                   (self._period(i, x), self._period(j, y)))
                if kind is not None:
                    qa, qb = fa.quantity, fb.quantity
                    ok = agree(qa, qb) or agree(qb, qa)
                    same = sa is not None and sb is not None and sa.split("|")[0] == sb.split("|")[0]
                    pairs.append(FigurePair(x, y, ok, same, kind == "period", not same and (fa.loose or fb.loose)))
        slots_a, slots_b = set(self._slots[i].values()), set(self._slots[j].values())
        return pairs, bool(slots_a and slots_b and not slots_a & slots_b)

    def relate(self, i: int, j: int) -> tuple[str, float, Conflict | None]:
        """("same" | "conflict" | "none", score, conflict) for claims i and j of different providers."""
        a, b = self.views[i], self.views[j]
        if _said_alike(a, b) and self._flagged[i] == self._flagged[j]:  # the same sentence, figure and standing
            return "same", 2.0, None  # above any scored match (at most 1.5)
        if a.places and b.places and not a.places & b.places:
            return "none", 0.0, None
        sim = self.similarity(i, j)
        every, disjoint = self._figures(i, j)
        pairs = [p for p in every if not p.period]  # another year with another value is another quantity
        # figures that state one quantity: same evidence figure, or the same metric in close enough wording
        self.links += [((i, p.x), (j, p.y)) for p in every if (p.agree or not p.period) and (
            p.same_slot or sim >= (FIGURE_WORDING if p.agree else CONFLICT_WORDING)) and not (p.loose and not p.agree)]
        clash = [p for p in pairs if not p.agree and not p.loose and (p.same_slot or sim >= CONFLICT_WORDING)]
        if clash:
            return "conflict", sim, Conflict(i, j, "numeric", self._figure_topic(i, clash[0].x),
                                             ((i, clash[0].x), (j, clash[0].y)))
        dated = [p for p in every if p.period and p.agree and (p.same_slot or sim >= CONFLICT_WORDING)]
        if dated:
            years = [self._period(i, dated[0].x), self._period(j, dated[0].y)]
            topic = self._figure_topic(i, dated[0].x, period=False)
            return "conflict", sim, Conflict(i, j, "period", f"{topic}: {years[0]} or {years[1]}?",
                                             ((i, dated[0].x), (j, dated[0].y)))
        opposite = a.negated != b.negated or a.trend * b.trend < 0
        if opposite and sim >= POLARITY_WORDING and not disjoint and not any(p.agree for p in pairs):
            return "conflict", sim, Conflict(i, j, "polarity", self._word_topic(i, j))
        names_a, names_b = self._names(a), self._names(b)
        # each names someone the other does not: "Desertly leads" / "Oasis Crown leads" (a shared "Dubai" aside)
        names_clash = bool({n for n in names_a if not names_meet(frozenset([n]), frozenset(names_b))}
                           and {n for n in names_b if not names_meet(frozenset([n]), frozenset(names_a))})
        exclusive = (a.superlative and b.superlative) or (a.exclusive and b.exclusive)
        if names_clash and exclusive and not a.figures and not b.figures:
            exclude = a.name_words | b.name_words
            if self._words_sim(i, j, exclude) >= POLARITY_WORDING:
                lead = "who leads: " if a.superlative and b.superlative else ""
                return "conflict", sim, Conflict(i, j, "fact", lead + self._word_topic(i, j, exclude))
        # two claims whose every figure is the same evidence figure, agreeing, say the same despite other names
        aligned = bool(pairs) and all(p.agree and p.same_slot for p in pairs) and len(pairs) == max(
            len(a.figures), len(b.figures))
        if opposite or (names_clash and not aligned) or disjoint or self._flagged[i] != self._flagged[j]:
            return "none", sim, None
        agreeing = any(p.agree for p in pairs)
        if agreeing and sim >= FIGURE_WORDING:
            return "same", sim + 0.5, None
        if a.figures and b.figures and not pairs:
            return "none", sim, None
        threshold = SAME_WORDING if bool(a.figures) == bool(b.figures) else SAME_WORDING + 0.2
        return ("same" if sim >= threshold else "none"), sim, None

    def _period(self, i: int, x: int) -> int | None:
        """The figure's year: as the claim says, else the year of the evidence figure it is about."""
        fig = self.views[i].figures[x]
        if fig.period is not None:
            return fig.period
        check = self.verdicts[i].checks[x] if x < len(self.verdicts[i].checks) else None
        return check.fact.period if check is not None and check.fact is not None and not check.other_period else None

    def _names(self, view: ClaimView) -> set[str]:
        """Names sure enough to tell claims apart (placeholders included), not unknown sentence openers."""
        lowered = {n.lower() for n in view.names}
        return {n for n in lowered if n not in view.opening or n in self.known_names}

    def _words_sim(self, i: int, j: int, exclude: frozenset[str]) -> float:
        return word_similarity(self.views[i].words, self.views[j].words, {}, exclude=exclude)

    def _figure_topic(self, i: int, x: int, *, period: bool = True) -> str:
        """The quantity in words: subject and metric, market, year ("pizza share, FR, 2023")."""
        view = self.views[i]
        fig = view.figures[x]
        check = self.verdicts[i].checks[x] if x < len(self.verdicts[i].checks) else None
        fact = check.fact if check is not None and check.fact is not None and check.slot is not None else None
        spelled = {n.lower(): n for n in view.names}
        names = [spelled.get(n, n) for n in sorted(_clean_names(fig) - (view.opening - self.known_names))]
        if fact is not None and not fact.label.startswith('"'):
            subject = " ".join([*(n for n in names if n.lower() not in fact.topic.lower()), fact.topic])
        else:
            subject = " ".join([*names, fig.metric or fig.quantity.dimension])
        where = sorted(fig.places or (fact.places if fact is not None else frozenset()))
        year = fig.period or (fact.period if fact is not None else None)
        return ", ".join([subject, *where, *([str(year)] if period and year else [])])

    def _word_topic(self, i: int, j: int, exclude: frozenset[str] = frozenset()) -> str:
        """The words both claims share, as claim i writes them (at most six)."""
        shared = set(self.views[j].words) - exclude
        view = self.views[i]
        words = [s for w, s in dict((w, s) for w, s in zip(view.words, view.surface)).items() if w in shared]
        return " ".join(words[:6]) or "statement"


def _said_alike(a: ClaimView, b: ClaimView) -> bool:
    """Word for word the same claim (case and spacing aside) with the same structured value and unit."""
    return (" ".join(a.claim.text.casefold().split()) == " ".join(b.claim.text.casefold().split())
            and a.claim.value == b.claim.value and (a.claim.unit or "").casefold() == (b.claim.unit or "").casefold())


def group_claims(matcher: Matcher) -> tuple[list[list[int]], list[Conflict]]:
    """Complete-linkage groups of `same` claims (one per provider) and the conflicts between claims."""
    views = matcher.views
    relation: dict[tuple[int, int], str] = {}
    edges: list[tuple[float, int, int]] = []
    conflicts: list[Conflict] = []
    for i in range(len(views)):
        for j in range(i + 1, len(views)):
            if views[i].provider == views[j].provider:
                continue
            kind, score, conflict = matcher.relate(i, j)
            relation[(i, j)] = kind
            if kind == "same":
                edges.append((-score, i, j))
            elif conflict is not None:
                conflicts.append(conflict)
    group_of = {i: [i] for i in range(len(views))}
    for _, i, j in sorted(edges):
        gi, gj = group_of[i], group_of[j]
        if gi is gj or {views[k].provider for k in gi} & {views[k].provider for k in gj}:
            continue
        if all(relation.get((min(x, y), max(x, y))) == "same" for x in gi for y in gj):
            merged = sorted(gi + gj)
            for k in merged:
                group_of[k] = merged
    groups: list[list[int]] = []
    seen: set[int] = set()
    for i in range(len(views)):
        if id(group_of[i]) not in seen:
            seen.add(id(group_of[i]))
            groups.append(group_of[i])
    return groups, conflicts
