"""Reading one claim: its figures (with topic, names and places), names, places, words and polarity."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from actors.merge.entities import entities, mentions, opening_names, places, word_forms
from actors.merge.numbers import (
    Quantity,
    agree,
    claim_quantity,
    comparable,
    extract_quantities,
)
from actors.merge.text import (
    DECLINE_WORDS,
    SUPERLATIVES,
    TOPIC_WORDS,
    canonical,
    change_near,
    clause_spans,
    is_base_year,
    is_level,
    negated,
    tokens,
    trend,
)
from schemas import Claim

__all__ = ["ClaimView", "Figure", "read_claim"]

_PRICE_CUE = re.compile(r"\b(?:per|each)\s+(?!cent\b)[a-z]|/\s?[A-Za-z]|"
                        r"\b(?:a|an)\s+(?:month|week|year|unit|pack|bottle|can|jar|bag|box|item|kg|kilo|kwh|"
                        r"litre|liter|minute|hour|ride|trip|night|seat|user|person|head|serving|cup|session|visit)\b|"
                        r"\b(?:bottle|pack|jar|can|bag|box|tub|carton|sachet)s?\b", re.IGNORECASE)
_EXCLUSIVE = re.compile(r"\b(?:headquarter(?:s|ed)?|hq|based in|ceo|chief executive|founded|founder|owned by|owner|"
                        r"parent company|subsidiary of|acquired by|capital)\b", re.IGNORECASE)
_LEADER = re.compile(r"market leader|number[- ]one|no\.? ?1\b|best[- ]sell|top[- ]sell|\bled by\b|\bis led\b")
_PART_OF = re.compile(r"\s*(?:of|des|du|der|de)\b")
_SURFACE = re.compile(r"<[A-Z_]+\d+>|[^\s\-.,;:()\[\]]+")


@dataclass(frozen=True)
class Figure:
    """A figure a claim states, and what it is a figure of."""

    quantity: Quantity
    primary: str | None  # the topic word nearest the figure ("growth", "share", ...)
    topics: frozenset[str]
    names: frozenset[str]  # lower-cased
    places: frozenset[str]
    context: frozenset[str] = frozenset()  # the clause's other content words ("households", "sample")
    period: int | None = None  # the year the figure is for, when the claim says
    head: str | None = None  # the word the figure counts ("subscribers" in "120k subscribers")
    loose: bool = False  # the metric is only "x % of something": enough to agree, too weak to contradict
    phrase: tuple[str, ...] = ()  # the clause's canonical words before the figure, in order (places left out)

    @property
    def metric(self) -> str | None:
        """What the figure measures: its topic word, else the word it counts."""
        return self.primary or self.head


@dataclass(frozen=True)
class ClaimView:
    """One provider's claim, read for matching and grounding."""

    provider: str
    order: tuple[int, int]  # (answer index, claim index): the stable input order
    claim: Claim
    figures: tuple[Figure, ...]
    names: tuple[str, ...]
    places: frozenset[str]
    words: tuple[str, ...]  # canonical content words; places as "@DE"
    surface: tuple[str, ...]  # the same words as written
    name_words: frozenset[str]
    opening: frozenset[str]  # lower-cased names that are only a capitalized sentence opener (maybe a common word)
    negated: bool
    trend: int
    superlative: bool
    exclusive: bool = False  # states something only one can be: headquarters, chief executive, owner

def _period(q: Quantity, years: list[Quantity], start: int, end: int) -> int | None:
    """The year nearest the figure in its clause, else the claim's only year (years compared with left out)."""
    local = [y for y in years if start <= y.start < end]
    if local:
        return int(min(local, key=lambda y: (abs(y.start - q.start), y.start < q.start)).value)
    distinct = {int(y.value) for y in years}
    return distinct.pop() if len(distinct) == 1 else None


def _head(q: Quantity, forms: list[tuple[int, str]], end: int) -> str | None:
    """The first content word after the figure in its clause, within three words (places and units skipped)."""
    after = [w for pos, w in forms if q.end <= pos < end and not w.startswith("@")][:3]
    return next((w for w in after if w not in TOPIC_WORDS), None)


def _figure(q: Quantity, text: str, forms: list[tuple[int, str]], spans: list[tuple[int, int]],
            claim_names: frozenset[str], claim_places: frozenset[str], years: list[Quantity], alone: bool) -> Figure:
    start, end = next(((s, e) for s, e in spans if s <= q.start < e), (0, len(text)))
    if not any(start <= pos < end and pos not in range(q.start, q.end) for pos, _ in forms):
        # "Public charging points in the Netherlands: roughly 1.48 million": the label is the clause before
        start = max((s for s, e in spans if e <= start), default=start)
    local = [(pos, w) for pos, w in forms if start <= pos < end and w in TOPIC_WORDS]
    scope = local or [(pos, w) for pos, w in forms if w in TOPIC_WORDS]
    primary = min(scope, key=lambda pw: (abs(pw[0] - q.start), pw[0]))[1] if scope else None
    if q.dimension == "area":
        primary = "area"
    clause = text[start:end]
    if primary == "growth" and q.dimension not in ("percent", "points"):
        primary = None  # "totalled MXN 24.1 bn, up 4 %": the amount is no growth rate
    if primary == "value" and q.dimension in ("percent", "points"):
        primary = "share"  # "27 % of app revenue" is a share of a value
    part_of = False
    if q.dimension == "percent" and primary != "growth":
        # "accounts for 7 % of sales" is a share, not a value; "has 7 % of the market" is one too, but only
        # claims meet on that: without a topic word it is too weak to hold against the evidence
        if "share" in {w for _, w in local}:
            primary = "share"
        part_of = primary is None and _PART_OF.match(text, q.end) is not None
    if primary is None and q.dimension == "money" and _PRICE_CUE.search(clause):
        primary = "price"  # "JPY 128 a bottle", "EUR 0.35 per minute": an amount per unit is a price
    context = frozenset(w for pos, w in forms if start <= pos < end and w not in TOPIC_WORDS and not w.startswith("@")
                        and not q.start <= pos < q.end)  # "square miles" is the figure's unit, not its subject
    colon = text.rfind(":", 0, start)
    label = text[max(text.rfind(".", 0, colon) + 1, 0):colon] if colon >= 0 else ""
    # "Payroling: 21 % of India's market": the label before the colon names the figure's subject
    names = frozenset(n for n in claim_names if mentions(clause, n) or mentions(label, n)) or (
        claim_names if len(claim_names) == 1 else frozenset())
    # a claim's only figure is about every place it names ("Germany, France and the Netherlands spent ...")
    where = claim_places if alone else places(clause) or claim_places
    change = change_near(text, q.start, q.end) if q.dimension in ("percent", "points") else 0
    if change and primary != "share":
        primary = "growth"  # "down 6 %", "6 % fewer": a change, whatever else the clause says
    elif primary == "growth" and is_level(text, q.start):
        primary = None  # "fell 2.5 points to 71 %": 71 % is where it ended, not the change
    if primary == "growth" and q.value > 0 and not negated(clause):
        if change < 0 or (not change and {t.text.lower() for t in tokens(clause)} & DECLINE_WORDS):
            q = replace(q, value=-q.value)
    # the words before the figure: its subject ("hi-res audio subscriptions grew 40 %"), not the commentary after
    firsts = dict(reversed([(pos, w) for pos, w in forms]))  # one word per position: "post-paid" read once
    phrase = tuple(w for pos, w in sorted(firsts.items()) if start <= pos < q.start and not w.startswith("@"))
    return Figure(q, primary, frozenset(w for _, w in scope), names, where, context, _period(q, years, start, end),
                  "share" if part_of else _head(q, forms, end), part_of, phrase)


def read_claim(provider: str, order: tuple[int, int], claim: Claim, *,
               vocabulary: frozenset[str] = frozenset(), known: frozenset[str] = frozenset()) -> ClaimView:
    """Read `claim` (made by `provider`); `vocabulary` holds lower-case words seen elsewhere in the merge,
    `known` the lower-cased names the evidence uses."""
    text = claim.text
    forms = word_forms(text)
    spans = clause_spans(text)
    names = tuple(entities(text, vocabulary=vocabulary, known=known))
    claim_names = frozenset(n.lower() for n in names)
    claim_places = places(text)
    found = extract_quantities(text)
    years = [q for q in found if q.dimension == "year" and not is_base_year(text, q.start)]
    strong = [q for q in found if q.strong and q.dimension != "year"]
    figures = [_figure(q, text, forms, spans, claim_names, claim_places, years, len(strong) == 1) for q in strong]
    if claim.value is not None:
        stated = claim_quantity(claim.value, claim.unit)
        twin = next((i for i, f in enumerate(figures) if comparable(stated, f.quantity)
                     and (agree(stated, f.quantity) or agree(f.quantity, stated))), None)
        unit_topics = frozenset(t for t in stated.topics if t in TOPIC_WORDS)
        if twin is not None:
            f = figures[twin]
            keep = stated if f.quantity.dimension == "number" or stated.dimension != "number" else f.quantity
            keep = replace(keep, value=abs(keep.value) * (1 if f.quantity.value >= 0 else -1)
                           if keep.value >= 0 else keep.value, start=f.quantity.start, end=f.quantity.end)
            primary = min(unit_topics) if len(unit_topics) == 1 else f.primary
            context = f.context | frozenset(t for t in stated.topics if t not in TOPIC_WORDS)
            figures[twin] = Figure(keep, primary, f.topics | unit_topics, f.names, f.places, context, f.period, f.head,
                                   f.loose and primary is None, f.phrase)
        else:
            all_topics = frozenset(w for _, w in forms if w in TOPIC_WORDS)
            primary = min(unit_topics) if len(unit_topics) == 1 else (min(all_topics) if len(all_topics) == 1 else None)
            context = frozenset(w for _, w in forms if w not in TOPIC_WORDS and not w.startswith("@")) | frozenset(
                t for t in stated.topics if t not in TOPIC_WORDS)
            period = _period(stated, years, 0, 0)
            figures.append(Figure(stated, primary, unit_topics | all_topics, claim_names, claim_places, context,
                                  period))
    figures = [f for i, f in enumerate(figures) if not (f.quantity.dimension == "number" and any(
        j != i and g.quantity.dimension != "number" and agree(f.quantity, g.quantity) for j, g in enumerate(figures)))]
    lower = text.lower()
    return ClaimView(
        provider=provider,
        order=order,
        claim=claim,
        figures=tuple(figures),
        names=names,
        places=claim_places,
        words=tuple(w for _, w in forms),
        surface=tuple(_SURFACE.match(text, pos).group() for pos, _ in forms),  # type: ignore[union-attr]
        name_words=frozenset(canonical(part) for name in names for part in name.split()),
        opening=frozenset(n.lower() for n in opening_names(text, vocabulary=vocabulary, known=known)),
        negated=negated(text),
        trend=trend(text),
        superlative=any(w in SUPERLATIVES for w in lower.replace("-", " ").split() + lower.split())
        or _LEADER.search(lower) is not None,
        exclusive=_EXCLUSIVE.search(text) is not None,
    )
