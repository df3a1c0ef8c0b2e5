"""The report's structure, built from a `ReportInput` (pure): summary, one section per question, markets, appendices.

The rule it keeps: every merged claim is printed in full once. Claims get numbers (C1, C2, ...) in
the order the body shows them; the summary, the disagreement table, the flagged list and the
per-model appendix refer to those numbers instead of repeating the text.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from actors.market_facts import Fact, facts_of, same_brand
from schemas.answers import CLAIM_KINDS
from schemas.merge import MergedClaim
from schemas.pipeline import ReportInput

__all__ = ["ClaimRef", "CompetitorRow", "MarketRow", "Position", "QuestionSection", "ReportView", "build_view"]

_AGREEMENT_RANK = {"unanimous": 0, "majority": 1, "single": 2}
_KIND_RANK = {"insight": 0, "recommendation": 1, "finding": 2, None: 3}
MAX_SUMMARY, MIN_SUMMARY, PER_QUESTION = 6, 3, 2
_TOP_BRANDS = 3


@dataclass(frozen=True)
class ClaimRef:
    """A merged claim with its number in the report and whether the summary already shows it in full."""

    number: int
    claim: MergedClaim
    in_summary: bool = False

    @property
    def label(self) -> str:
        """"C3"."""
        return f"C{self.number}"


@dataclass
class QuestionSection:
    """One brief question (verbatim) with its claims by kind; `index` is None for claims tied to no question."""

    index: int | None
    question: str
    by_kind: dict[str, list[ClaimRef]] = field(default_factory=dict)
    flagged: list[ClaimRef] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No claim answers this question."""
        return not any(self.by_kind.values()) and not self.flagged


@dataclass(frozen=True)
class BrandFigures:
    """One brand in one market: its share and price, when the data has them."""

    name: str
    share: Fact | None
    price: Fact | None


@dataclass(frozen=True)
class MarketRow:
    """A market's key figures from the evidence; `missing` names what no evidence gave."""

    market: str
    size: Fact | None
    growth: Fact | None
    year: int | None
    brands: list[BrandFigures]
    missing: list[str]


@dataclass(frozen=True)
class CompetitorRow:
    """A competitor the brief names, and where the data has it (empty: no data collected on it)."""

    name: str
    markets: list[tuple[str, BrandFigures]]


@dataclass(frozen=True)
class Position:
    """One provider's side in a disagreement: the claim it sits in and the figure it states."""

    provider: str
    ref: ClaimRef | None
    value: float | None
    unit: str | None


@dataclass
class ReportView:
    """Everything the templates lay out, in reading order."""

    summary: list[ClaimRef]
    sections: list[QuestionSection]
    markets: list[MarketRow]
    competitors: list[CompetitorRow]
    disagreements: list[tuple[str, list[Position]]]
    flagged: list[ClaimRef]
    provider_claims: dict[str, list[ClaimRef]]
    answer_summaries: dict[str, list[str]]  # summary text -> the providers that gave it


def _summary(claims: list[MergedClaim], sections: int) -> list[int]:
    """Indexes of the summary's claims: supported, most agreed first, insights and recommendations before findings,
    at most two per question; unflagged unverifiable claims fill up to three when too few are supported."""
    def rank(i: int) -> tuple[object, ...]:
        c = claims[i]
        return (_AGREEMENT_RANK[c.agreement], _KIND_RANK.get(c.kind, 3), c.question if c.question is not None else 99, i)

    chosen: list[int] = []
    per_question: dict[int | None, int] = defaultdict(int)
    supported = [i for i, c in enumerate(claims) if c.grounding == "supported" and not c.hallucination]
    unverified = [i for i, c in enumerate(claims) if c.grounding == "unverifiable" and not c.hallucination]
    for pool, limit in ((supported, MAX_SUMMARY), (unverified, MIN_SUMMARY)):
        for i in sorted(pool, key=rank):
            if len(chosen) >= limit:
                break
            if per_question[claims[i].question] < PER_QUESTION or sections <= 1:
                chosen.append(i)
                per_question[claims[i].question] += 1
    return chosen


def _market_rows(report: ReportInput, facts: list[Fact]) -> list[MarketRow]:
    rows = []
    for market in report.brief.markets:
        here = [f for f in facts if f.market == market]
        size = next((f for f in here if not f.brand and f.topic == "size"), None)
        growth = next((f for f in here if not f.brand and f.topic == "growth"), None)
        shares = sorted((f for f in here if f.brand and f.topic == "share"), key=lambda f: -f.value)
        prices = {f.brand: f for f in here if f.brand and f.topic == "price"}
        brands = [BrandFigures(s.brand or "", s, prices.get(s.brand or "")) for s in shares[:_TOP_BRANDS]]
        missing = [what for what, have in (("market size", size), ("growth", growth), ("competitors", brands))
                   if not have]
        year = next((f.year for f in (size, growth, *(b.share for b in brands)) if f and f.year), None)
        rows.append(MarketRow(market, size, growth, year, brands, missing))
    return rows


def _competitor_rows(report: ReportInput, facts: list[Fact]) -> list[CompetitorRow]:
    rows = []
    for name in report.brief.competitors:
        found = []
        for market in report.brief.markets:
            mine = [f for f in facts if f.market == market and f.brand and same_brand(f.brand, name)]
            share = next((f for f in mine if f.topic == "share"), None)
            price = next((f for f in mine if f.topic == "price"), None)
            if share or price:
                found.append((market, BrandFigures(name, share, price)))
        rows.append(CompetitorRow(name, found))
    return rows


def build_view(report: ReportInput) -> ReportView:
    """Lay a report out: number the claims in body order, pick the summary, group by question and kind."""
    brief = report.brief
    merged = report.merge.claims if report.merge else []
    order = {m: n for n, m in enumerate(brief.markets)}
    questions = len(brief.questions)
    chosen = _summary(merged, questions)

    def body_key(i: int) -> tuple[object, ...]:
        c = merged[i]
        q = c.question if c.question is not None and c.question < questions else questions
        return (q, CLAIM_KINDS.index(c.kind) if c.kind else 0, order.get(c.market or "", -1), i)

    numbering = chosen + sorted((i for i in range(len(merged)) if i not in chosen and not merged[i].hallucination),
                                key=body_key)
    numbering += [i for i in range(len(merged)) if merged[i].hallucination]
    refs = {i: ClaimRef(n, merged[i], in_summary=i in chosen) for n, i in enumerate(numbering, start=1)}

    sections = [QuestionSection(n, q) for n, q in enumerate(brief.questions)]
    other = QuestionSection(None, "Other findings")
    for i in sorted(range(len(merged)), key=body_key):
        ref, claim = refs[i], merged[i]
        section = sections[claim.question] if claim.question is not None and claim.question < questions else other
        if claim.hallucination:
            section.flagged.append(ref)
        else:
            section.by_kind.setdefault(claim.kind or "finding", []).append(ref)
    if not other.empty:
        sections.append(other)

    by_member = {(p, cid): refs[i] for i, c in enumerate(merged) for p, cid in zip(c.providers, c.member_claim_ids)}
    answers = {a.provider: a for a in report.answers}
    disagreements = []
    for d in report.merge.disagreements if report.merge else []:
        positions = []
        for provider in d.positions:
            member = next((cid for cid in d.claim_ids if (provider, cid) in by_member), None)
            said = next((c for c in answers[provider].claims if c.id == member), None) if provider in answers else None
            positions.append(Position(provider, by_member.get((provider, member or "")),
                                      said.value if said else None, said.unit if said else None))
        disagreements.append((d.topic, positions))

    provider_claims: dict[str, list[ClaimRef]] = defaultdict(list)
    for i, c in enumerate(merged):
        for p in dict.fromkeys(c.providers):
            provider_claims[p].append(refs[i])
    facts = facts_of(report.evidence, brief.markets)
    claim_texts = {c.text.strip() for c in merged}
    summaries: dict[str, list[str]] = defaultdict(list)
    for answer in report.answers:
        if answer.summary and answer.summary.strip() not in claim_texts:  # a claim is printed once, as a claim
            summaries[answer.summary].append(answer.provider)
    return ReportView(
        summary=[refs[i] for i in chosen],
        sections=sections,
        markets=_market_rows(report, facts),
        competitors=_competitor_rows(report, facts),
        disagreements=disagreements,
        flagged=[refs[i] for i in numbering if merged[i].hallucination],
        provider_claims={p: sorted(r, key=lambda ref: ref.number) for p, r in provider_claims.items()},
        answer_summaries=summaries,
    )
