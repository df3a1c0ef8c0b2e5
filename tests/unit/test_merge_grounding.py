"""Unit tests of grounding one claim: cited ids, figures with tolerance, names, places, trends and ranks."""

from __future__ import annotations

import pytest

from actors.merge.analysis import read_claim
from actors.merge.evidence import index_evidence
from actors.merge.grounding import Verdict, ground_claim
from schemas import Claim, Evidence

pytestmark = pytest.mark.unit

EVIDENCE = [
    Evidence(id="ev-de-market", source="mcp://market-data/market_size?country=DE&category=dairy",
             text="The dairy alternatives market in Germany (DE) was worth EUR 1,480.0 million in 2024, growing 6.4% a "
                  "year (sample dataset; illustrative, not real figures).",
             data={"value_eur_m": 1480.0, "growth_pct": 6.4, "year": 2024.0}),
    Evidence(id="ev-de-competitors", source="mcp://market-data/competitors?country=DE&category=dairy",
             text="Leading dairy alternatives brands in Germany (DE) in 2024: Oatfield 27.0% share at EUR 2.29; Soyana "
                  "19.5% share at EUR 1.89 (sample dataset, fictional brands).",
             data={"Oatfield share_pct": 27.0, "Oatfield price_eur": 2.29, "Soyana share_pct": 19.5,
                   "Soyana price_eur": 1.89}),
    Evidence(id="ev-survey", source="https://www.example.org/survey-2024",
             text="<PERSON_1> reports that 41% of urban coffee drinkers order a plant-based milk weekly.",
             data={"weekly_pct": 41.0}),
]
INDEX = index_evidence(EVIDENCE)


def ground(text: str, *ids: str, value: float | None = None, unit: str | None = None) -> Verdict:
    claim = Claim(id="c1", text=text, evidence_ids=list(ids), value=value, unit=unit)
    vocabulary = frozenset(w for e in EVIDENCE for w in e.text.split() if w.islower())
    return ground_claim(read_claim("openai", (0, 0), claim, vocabulary=vocabulary), INDEX)


@pytest.mark.parametrize("text", ["The German market is worth EUR 1.48bn.", "Germany's market: €1,480 million.",
                                  "The market in Germany is about 1.5 billion euros.", "It grows 6.4% a year.",
                                  "Oatfield holds 27% of the market.", "Soyana costs EUR 1.89."])
def test_matching_figures_are_supported(text: str) -> None:
    verdict = ground(text, "ev-de-market", "ev-de-competitors")
    assert verdict.grounding == "supported", verdict.reasons
    assert all(" matches ev-de-" in r for r in verdict.reasons)


@pytest.mark.parametrize(("text", "expected"), [
    ("The German market is worth EUR 1.85bn.", "EUR 1.85 bn contradicts ev-de-market: EUR 1.48 bn (value_eur_m)"),
    ("It grows 8.4% a year.", "8.4% contradicts ev-de-market: 6.4% (growth_pct)"),
    ("Oatfield holds 19.5% of the market.", "19.5% contradicts ev-de-competitors: 27% (Oatfield share_pct)"),
    ("The German market is worth EUR 1,480 billion.", "off by a factor of 1,000 (magnitude slip)"),
])
def test_conflicting_figures_are_contradicted_with_the_evidence_named(text: str, expected: str) -> None:
    verdict = ground(text, "ev-de-market", "ev-de-competitors")
    assert verdict.grounding == "contradicted"
    assert any(expected in r for r in verdict.reasons), verdict.reasons


def test_structured_value_with_stub_style_unit() -> None:
    verdict = ground("Dairy alternatives (growth pct: 6.4).", "ev-de-market", value=6.4, unit="growth pct")
    assert verdict.grounding == "supported"
    assert ground("Market size.", "ev-de-market", value=1.48, unit="EUR m").grounding != "supported"


def test_unknown_evidence_is_reported_even_when_the_figure_is_true() -> None:
    verdict = ground("Growth is 6.4% a year in Germany.", "ev-made-up")
    assert verdict.unknown_ids == ("ev-made-up",)
    assert "cites ev-made-up, which does not exist in the evidence" in verdict.reasons
    assert any("(not cited)" in r for r in verdict.reasons)


def test_invented_competitor_is_unverifiable_not_contradicted() -> None:
    verdict = ground("Milkora holds 12% of the German market.", "ev-de-competitors")
    assert verdict.grounding == "unverifiable"
    assert "names Milkora, which no evidence mentions" in verdict.reasons


def test_place_no_evidence_covers() -> None:
    verdict = ground("Oat drinks are popular in Spain.")
    assert verdict.grounding == "unverifiable"
    assert "is about ES, which no evidence covers" in verdict.reasons


def test_trend_without_a_figure_is_checked_against_growth() -> None:
    assert ground("The German market is shrinking.", "ev-de-market").grounding == "contradicted"
    assert ground("The German market keeps growing.", "ev-de-market").grounding == "supported"


def test_rank_claims_use_the_named_figures() -> None:
    assert ground("Oatfield is the market leader in Germany.", "ev-de-competitors").grounding == "supported"
    leader = ground("Soyana is the market leader in Germany.", "ev-de-competitors")
    assert leader.grounding == "contradicted"
    assert "ev-de-competitors: Oatfield, not Soyana, has the largest share (27%)" in leader.reasons
    assert ground("Oatfield is not the market leader.", "ev-de-competitors").grounding == "contradicted"
    assert ground("Soyana is the cheapest brand.", "ev-de-competitors").grounding == "supported"


def test_wording_supports_a_claim_without_figures_and_contradicts_its_denial() -> None:
    assert ground("Urban coffee drinkers order plant-based milk weekly.", "ev-survey").grounding == "supported"
    negated = ground("Urban coffee drinkers do not order plant-based milk weekly.", "ev-survey")
    assert negated.grounding == "contradicted"
    assert "denies what ev-survey says" in negated.reasons
    unrelated = ground("It is not what older tea drinkers buy.", "ev-survey")
    assert unrelated.grounding == "unverifiable"
    assert "no evidence confirms or contradicts it (negated statement)" in unrelated.reasons


def test_a_trend_claim_needs_the_same_trend_in_the_evidence() -> None:
    assert ground("Urban coffee drinkers order plant-based milk weekly, and it is growing.",
                  "ev-survey").grounding == "unverifiable"


def test_placeholders_are_names_the_evidence_must_hold() -> None:
    assert ground("<PERSON_1> reports 41% weekly use among urban coffee drinkers.", "ev-survey").grounding == "supported"
    other = ground("<PERSON_2> reports 41% weekly use among urban coffee drinkers.", "ev-survey")
    assert "names <PERSON_2>, which no evidence mentions" in other.reasons
