"""The report's structure on its own: summary choice, sections by question and kind, markets, competitors, charts."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from actors.report.charts import build_charts
from actors.report.render import render_markdown
from actors.report.view import MAX_SUMMARY, MIN_SUMMARY, build_view
from schemas import Brief, Evidence
from schemas.merge import MergedClaim, MergeResult, Quorum
from schemas.pipeline import QuorumDecision, ReportInput
from tests.conftest import brief_data

pytestmark = pytest.mark.unit

EVIDENCE = [
    Evidence(id="ev-de-market", source="mcp://market-data/market_size?country=DE&category=coffee",
             text="The coffee market in Germany (DE) was worth EUR 5,120.0 million in 2024.",
             data={"value_eur_m": 5120.0, "growth_pct": 2.1, "year": 2024.0}),
    Evidence(id="ev-de-competitors", source="mcp://market-data/competitors?country=DE&category=coffee",
             text="Leading coffee brands in Germany (DE).",
             data={"Crema Nova share_pct": 27.0, "Crema Nova price_eur": 7.49, "Roastline share_pct": 19.5,
                   "Roastline price_eur": 5.99}),
    Evidence(id="ev-fr-market", source="mcp://market-data/market_size?country=FR&category=coffee",
             text="No coffee market figure for France (FR): unavailable."),
]


def claim(text: str, *, question: int | None, kind: str | None, agreement: str = "unanimous",
          grounding: str = "supported", flagged: bool = False, market: str | None = None) -> MergedClaim:
    return MergedClaim(text=text, providers=["openai", "gemini"], member_claim_ids=[text[:3], text[:4]],
                       agreement=agreement, grounding=grounding, hallucination=flagged,  # type: ignore[arg-type]
                       evidence_ids=["ev-de-market"], question=question, market=market, kind=kind)  # type: ignore[arg-type]


def report(claims: list[MergedClaim], **brief: object) -> ReportInput:
    fields = {"markets": ["DE", "FR"], "competitors": ["Crema Nova", "Alpro"],
              "questions": ["How big is the market?", "Who leads?", "What should we say?"], **brief}
    quorum = QuorumDecision(required=2, received=["openai", "gemini"], missing={}, degraded=False, met=True,
                            deadline_s=1, grace_s=0, waited_s=0.1)
    merge = MergeResult(claims=claims, disagreements=[], degraded=False, quorum=Quorum(required=2, received=2))
    return ReportInput(job_id="job-1", brief=Brief.model_validate(brief_data(**fields)), evidence=EVIDENCE, answers=[],
                       quorum=quorum, merge=merge, generated_at=datetime(2026, 3, 4, tzinfo=timezone.utc))


CLAIMS = [
    claim("Market value in Germany (DE): EUR 5.12 bn.", question=0, kind="finding", market="DE"),
    claim("Germany is the bigger market.", question=0, kind="insight"),
    claim("Growth in Germany (DE): 2.1 %.", question=0, kind="finding", agreement="majority", market="DE"),
    claim("Crema Nova leads Germany.", question=1, kind="insight", market="DE"),
    claim("Roastline follows.", question=1, kind="finding", agreement="single"),
    claim("Price near Crema Nova.", question=1, kind="recommendation", grounding="unverifiable"),
    claim("Invented leader.", question=1, kind="finding", agreement="single", grounding="unverifiable", flagged=True),
    claim("Test the claims with baristas.", question=2, kind="recommendation", grounding="unverifiable"),
    claim("A claim tied to no question.", question=None, kind=None),
]


def test_summary_takes_the_most_agreed_supported_claims_two_per_question() -> None:
    view = build_view(report(CLAIMS))
    texts = [ref.claim.text for ref in view.summary]
    assert MIN_SUMMARY <= len(texts) <= MAX_SUMMARY
    assert texts[:2] == ["Germany is the bigger market.", "Crema Nova leads Germany."]  # unanimous insights first
    assert all(ref.claim.grounding == "supported" and not ref.claim.hallucination for ref in view.summary)
    by_question = [ref.claim.question for ref in view.summary]
    assert all(by_question.count(q) <= 2 for q in set(by_question))
    assert [ref.number for ref in view.summary] == list(range(1, len(texts) + 1))  # C1, C2, ... in reading order


def test_sections_follow_the_questions_with_kinds_and_flags_apart() -> None:
    view = build_view(report(CLAIMS))
    assert [s.question for s in view.sections] == ["How big is the market?", "Who leads?", "What should we say?",
                                                   "Other findings"]
    second = view.sections[1]
    assert set(second.by_kind) == {"finding", "insight", "recommendation"}
    assert [ref.claim.text for ref in second.flagged] == ["Invented leader."]
    assert all(not ref.claim.hallucination for refs in second.by_kind.values() for ref in refs)
    numbers = [ref.number for s in view.sections for refs in s.by_kind.values() for ref in refs]
    numbers += [ref.number for ref in view.flagged]
    assert sorted(numbers) == list(range(1, len(CLAIMS) + 1))  # every claim has exactly one number
    assert view.flagged[0].number == len(CLAIMS)  # flagged claims come last


def test_markets_say_what_is_missing_and_competitors_without_data_are_named() -> None:
    view = build_view(report(CLAIMS))
    de, fr = view.markets
    assert de.size and de.size.value == 5120.0 and de.growth and de.growth.value == 2.1 and de.year == 2024
    assert [b.name for b in de.brands] == ["Crema Nova", "Roastline"] and de.brands[0].price
    assert fr.size is None and fr.missing == ["market size", "growth", "competitors"]
    rows = {row.name: row for row in view.competitors}
    assert [m for m, _ in rows["Crema Nova"].markets] == ["DE"] and rows["Alpro"].markets == []
    markdown = render_markdown(report(CLAIMS))
    assert "No data collected on Alpro." in markdown
    assert "No data collected on market size, growth, competitors in France (FR)." in markdown


def test_charts_are_drawn_for_data_that_is_there_and_omitted_otherwise() -> None:
    view = build_view(report(CLAIMS))
    charts = build_charts(view.markets)
    assert [c.name for c in charts] == ["chart-market-size", "chart-competitors"]
    for chart in charts:
        assert chart.svg.startswith("<svg") and f"<title>{chart.title}</title>" in chart.svg
        assert "<metadata>" not in chart.svg
    assert "Crema Nova" in charts[1].svg and "EUR 5.12 bn" in charts[0].svg  # text stays text
    assert build_charts(view.markets) == charts  # byte-stable for the same data
    bare = build_view(report(CLAIMS, markets=["FR"]))
    assert build_charts(bare.markets) == []


def test_markdown_escapes_untrusted_text_and_links_the_charts() -> None:
    hostile = claim("**bold** [link](https://evil.example) <b>x</b> | pipe", question=0, kind="finding")
    markdown = render_markdown(report([hostile, *CLAIMS]))
    assert "\\*\\*bold\\*\\* \\[link\\](https://evil.example) \\<b\\>x\\</b\\> \\| pipe" in markdown
    assert "![Market size and growth by market](chart-market-size.svg)" in markdown
    assert "## Question 2: Who leads?" in markdown
