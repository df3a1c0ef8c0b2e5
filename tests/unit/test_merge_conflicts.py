"""Golden conflict cases (issue 11): claims about the same quantity meet, and a wrong figure is contradicted."""

from __future__ import annotations

from typing import Any

import pytest

from actors.merge import merge_answers, quorum_of
from schemas import Claim, Evidence, MergeResult, ModelAnswer

pytestmark = pytest.mark.unit


def ev(id: str, text: str, data: dict[str, float]) -> Evidence:
    return Evidence(id=id, source=f"mcp://market-data/{id}", text=text, data=data)


def run(evidence: list[Evidence], **claims: list[tuple[Any, ...]]) -> MergeResult:
    """Merge one answer per provider: claims as (id, text[, value, unit]), all citing every evidence item."""
    ids = [e.id for e in evidence]
    answers = [ModelAnswer(provider=p, model=f"{p}-m", status="ok", latency_s=1.0,
                           claims=[Claim(id=c[0], text=c[1], evidence_ids=ids,
                                         value=c[2] if len(c) > 2 else None, unit=c[3] if len(c) > 3 else None)
                                   for c in cs])
               for p, cs in claims.items()]
    return merge_answers(answers, evidence, quorum_of(answers))


def member(result: MergeResult, claim_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in result.claims if claim_id in c.member_claim_ids)


def assert_one_disagreement(result: MergeResult, ids: set[str]) -> None:
    assert len(result.disagreements) == 1, result.disagreements
    assert set(result.disagreements[0].claim_ids) == ids


def assert_contradicted(result: MergeResult, claim_id: str, field: str, *values: str) -> None:
    claim = member(result, claim_id)
    assert claim.grounding == "contradicted" and claim.hallucination, claim
    flag = claim.reasons[0]
    assert field in flag and all(v in flag for v in values), flag


PIZZA = [ev("ev-fr-frozen", "Frozen pizza made up 38% of frozen ready-meal sales in France in 2023.",
            {"pizza_share_pct": 38, "year": 2023})]


def test_value_conflict_on_a_share() -> None:
    result = run(PIZZA, openai=[("o1", "Frozen pizza is about 38 % of the frozen ready-meal aisle.")],
                 gemini=[("g1", "Frozen pizza holds a 19 % share of frozen ready meals.")])
    assert_one_disagreement(result, {"o1", "g1"})
    assert member(result, "o1").grounding == "supported"
    assert_contradicted(result, "g1", "pizza_share_pct", "19%", "38%")
    assert "share" in result.disagreements[0].topic


CINEMA = [ev("ev-de-cinema", "Cinema attendance in Germany changed by -6% in 2022.",
             {"attendance_change_pct": -6, "year": 2022})]


def test_direction_conflict() -> None:
    result = run(CINEMA, openai=[("o1", "German cinema attendance fell 6 % in 2022.")],
                 xai=[("x1", "German cinema attendance rose 6 % in 2022.")])
    assert_one_disagreement(result, {"o1", "x1"})
    assert member(result, "o1").grounding == "supported"
    assert_contradicted(result, "x1", "attendance_change_pct", "+6%", "-6%")


COFFEE = [ev("ev-ch-coffee", "Swiss coffee imports were worth CHF 1.1 billion in 2023.",
             {"imports_chf_bn": 1.1, "year": 2023})]


def test_currency_conflict() -> None:
    result = run(COFFEE, openai=[("o1", "Swiss coffee imports were CHF 1.1 billion in 2023.")],
                 gemini=[("g1", "Switzerland imported EUR 1.1 billion of coffee in 2023.")])
    assert_one_disagreement(result, {"o1", "g1"})
    assert member(result, "o1").grounding == "supported"
    assert_contradicted(result, "g1", "imports_chf_bn", "EUR", "CHF")


SUBSCRIBERS = [ev("ev-nl-stream", "Streamly had 120,000 subscribers in the Netherlands at the end of 2024.",
                  {"subscribers": 120000, "year": 2024})]


def test_magnitude_conflict_three_ways() -> None:
    result = run(SUBSCRIBERS, openai=[("o1", "Streamly has 120k subscribers in the Netherlands.")],
                 gemini=[("g1", "Streamly counts 0.12 million Dutch subscribers.")],
                 xai=[("x1", "Streamly has 1.2 million subscribers in the Netherlands.")])
    assert_one_disagreement(result, {"o1", "g1", "x1"})
    assert member(result, "o1") is member(result, "g1") and member(result, "o1").grounding == "supported"
    assert_contradicted(result, "x1", "subscribers", "1.2", "120")
    assert "magnitude" in member(result, "x1").reasons[0]


def test_a_wrong_figure_is_contradicted_not_unverifiable() -> None:
    result = run(SUBSCRIBERS, openai=[("o1", "Streamly reached 1,200,000 subscribers.")])
    assert_contradicted(result, "o1", "subscribers", "1,200,000", "120,000")


SHARE_PP = [ev("ev-se-oat", "Oat drinks gained 3 percentage points of the Swedish plant-milk market in 2024, "
               "reaching a 41% share.", {"oat_share_change_pp": 3, "oat_share_pct": 41, "year": 2024})]


def test_percent_versus_percentage_points() -> None:
    result = run(SHARE_PP, openai=[("o1", "Oat drinks' share rose 3 percentage points in Sweden in 2024.")],
                 gemini=[("g1", "Oat drinks' share rose 3% in Sweden in 2024.")])
    assert_one_disagreement(result, {"o1", "g1"})
    assert member(result, "o1").grounding == "supported"
    assert member(result, "g1").grounding == "contradicted"


CHEESE = [ev("ev-fr-cheese", "The French eat 27 kg of cheese per person a year.", {"cheese_consumption_kg": 27})]


def test_unit_slip_kg_versus_tonnes() -> None:
    result = run(CHEESE, openai=[("o1", "Cheese consumption in France is 27 kg per person a year.")],
                 gemini=[("g1", "Cheese consumption in France is 27 t per person a year.")])
    assert_one_disagreement(result, {"o1", "g1"})
    assert_contradicted(result, "g1", "cheese_consumption_kg", "27 t", "27 kg")


def test_equal_masses_in_different_units_agree() -> None:
    result = run(CHEESE, openai=[("o1", "Cheese consumption in France is 27 kg per person a year.")],
                 gemini=[("g1", "Cheese consumption in France is 0.027 tonnes per person a year.")])
    assert not result.disagreements
    assert member(result, "o1") is member(result, "g1")


AREA = [ev("ev-at-facts", "Austria covers 83,879 km².", {"area_km2": 83879})]


def test_unit_slip_square_kilometres_versus_square_miles() -> None:
    result = run(AREA, openai=[("o1", "Austria's area is 83,879 km².")],
                 xai=[("x1", "Austria's area is 83,879 square miles.")])
    assert_one_disagreement(result, {"o1", "x1"})
    assert member(result, "x1").grounding == "contradicted"


MARKET = [ev("ev-de-market", "The German oat milk market was worth EUR 1,480 million in 2024.",
             {"value_eur_m": 1480, "year": 2024})]


def test_the_same_figure_in_another_year_is_a_period_conflict() -> None:
    result = run(MARKET, openai=[("o1", "The German oat milk market was worth EUR 1.48 bn in 2024.")],
                 gemini=[("g1", "The German oat milk market was worth EUR 1.48 bn in 2022.")])
    assert_one_disagreement(result, {"o1", "g1"})
    assert "2022" in result.disagreements[0].topic or "period" in result.disagreements[0].topic
    assert member(result, "o1").grounding == "supported"
    assert member(result, "g1").grounding == "contradicted"


def test_another_value_for_another_year_is_no_conflict() -> None:
    result = run(MARKET, openai=[("o1", "The German oat milk market was worth EUR 1.48 bn in 2024.")],
                 gemini=[("g1", "The German oat milk market was worth EUR 1.2 bn in 2021.")])
    assert not result.disagreements
    assert member(result, "o1").grounding == "supported"
    assert member(result, "g1").grounding == "unverifiable"


def test_rounded_values_within_stated_precision_agree() -> None:
    evidence = [ev("ev-fr-frozen", "Frozen pizza made up 37.6% of frozen ready-meal sales in France in 2023.",
                   {"pizza_share_pct": 37.6, "year": 2023})]
    result = run(evidence, openai=[("o1", "Frozen pizza is about 38 % of French frozen ready meals.")],
                 gemini=[("g1", "Frozen pizza holds a 37.6% share of frozen ready meals in France.")])
    assert not result.disagreements
    assert {c.grounding for c in result.claims} == {"supported"}


def test_same_metric_in_another_market_is_no_conflict() -> None:
    evidence = [ev("ev-fr-frozen", "Frozen pizza made up 38% of frozen ready-meal sales in France in 2023.",
                   {"pizza_share_pct": 38, "year": 2023})]
    result = run(evidence, openai=[("o1", "Frozen pizza is 38% of frozen ready meals in France.")],
                 gemini=[("g1", "Frozen pizza is 24% of frozen ready meals in Spain.")])
    assert not result.disagreements
    assert member(result, "g1").grounding == "unverifiable"


def test_a_majority_with_the_evidence_does_not_hide_the_dissent() -> None:
    result = run(PIZZA, openai=[("o1", "Frozen pizza accounts for 38% of frozen ready meals.")],
                 gemini=[("g1", "Frozen pizza makes up 38 percent of frozen ready-meal sales.")],
                 xai=[("x1", "Frozen pizza holds 29% of the frozen ready-meal category.")])
    assert_one_disagreement(result, {"o1", "g1", "x1"})
    assert member(result, "o1").agreement == "majority"
    assert set(result.disagreements[0].positions) == {"openai", "gemini", "xai"}
    assert_contradicted(result, "x1", "pizza_share_pct", "29%", "38%")


def test_one_disagreement_per_conflicting_quantity_even_within_one_claim() -> None:
    evidence = [ev("ev-de-market",
                   "The German oat milk market was worth EUR 1,480 million in 2024, growing 6.4% a year.",
                   {"value_eur_m": 1480, "growth_pct": 6.4, "year": 2024})]
    result = run(evidence, openai=[("o1", "The German oat milk market is worth EUR 1.48 bn and grows 6.4% a year.")],
                 gemini=[("g1", "The German oat milk market is worth EUR 1.2 bn.")],
                 xai=[("x1", "The German oat milk market grows 9% a year.")])
    assert sorted(sorted(d.claim_ids) for d in result.disagreements) == [["g1", "o1"], ["o1", "x1"]]
    assert {d.topic for d in result.disagreements} == {"market value, DE, 2024", "growth, DE, 2024"}


def test_a_segment_the_evidence_does_not_speak_of_is_unverifiable_not_contradicted() -> None:
    evidence = [ev("ev-de-music", "German recorded music revenues grew 6.2% in 2023.",
                   {"growth_pct": 6.2, "year": 2023})]
    result = run(evidence, openai=[("o1", "German recorded music revenues grew 6.2% in 2023.")],
                 gemini=[("g1", "Hi-res audio subscriptions grew 40% in Germany in 2023.")])
    assert member(result, "g1").grounding == "unverifiable" and not result.disagreements


def test_a_comparison_year_is_not_the_period_and_a_level_is_not_a_change() -> None:
    evidence = [ev("ev-gr-hotels", "Hotel occupancy in Athens fell 2.5 percentage points to 71% in 2023.",
                   {"occupancy_pct": 71, "occupancy_change_pp": -2.5, "year": 2023})]
    claim = "Athens hotel occupancy was down 2.5 pts in 2023, 3% fewer guests than in 2022."
    result = run(evidence, openai=[("o1", claim)],
                 gemini=[("g1", "Athens hotels averaged 71 % occupancy in 2023.")])
    assert member(result, "g1").grounding == "supported"
    assert "2.5 pp matches" in " ".join(member(result, "o1").reasons)


def test_the_leader_is_ranked_by_the_measure_the_claim_or_evidence_names() -> None:
    evidence = [ev("ev-ae-hotels", "Desertly Hotels had 9,800 rooms in Dubai in 2023, Oasis Crown 7,200.",
                   {"Desertly Hotels rooms": 9800, "Oasis Crown rooms": 7200, "year": 2023})]
    result = run(evidence, openai=[("o1", "Desertly Hotels is Dubai's largest hotel operator by rooms.")],
                 gemini=[("g1", "Oasis Crown is Dubai's largest hotel operator by rooms.")])
    assert member(result, "o1").grounding == "supported"
    assert member(result, "g1").grounding == "contradicted"
    assert_one_disagreement(result, {"o1", "g1"})


def test_two_headquarters_named_are_a_disagreement() -> None:
    evidence = [ev("ev-ie", "ShieldOps+ is headquartered in Cork, Ireland.", {})]
    result = run(evidence, openai=[("o1", "ShieldOps+ is headquartered in Dublin.")],
                 xai=[("x1", "ShieldOps+ is headquartered in Cork.")])
    assert_one_disagreement(result, {"o1", "x1"})


def test_a_data_key_naming_a_country_is_that_countrys_figure() -> None:
    evidence = [ev("ev-latam-online",
                   "Online took 31% of fast-fashion sales in Brazil, 22% in Mexico and 27% in Chile.",
                   {"br_online_share_pct": 31, "mx_online_share_pct": 22, "cl_online_share_pct": 27})]
    result = run(evidence, openai=[("o1", "Online accounts for 31 % of Brazilian fast-fashion sales.")],
                 gemini=[("g1", "Chile's online share of fast-fashion sales is 27 per cent.")],
                 xai=[("x1", "Online: 25 % of Mexican fast-fashion sales.")])
    assert member(result, "o1").grounding == member(result, "g1").grounding == "supported"
    assert_contradicted(result, "x1", "mx_online_share_pct", "25%", "22%")


def test_names_compare_without_accents_and_a_label_names_the_subject() -> None:
    evidence = [ev("ev-cz", "Pivovar Hrádek brewed 4.2 million hectolitres in 2023.",
                   {"Pivovar Hradek output_hl_m": 4.2})]
    result = run(evidence, openai=[("o1", "Pivovar Hrádek produced 4.2 million hl of beer in 2023.")],
                 gemini=[("g1", "Pivovar Hradek: 4.2 million litres of beer (2023).")])
    assert member(result, "o1").grounding == "supported"
    assert_contradicted(result, "g1", "Pivovar Hradek output_hl_m", "4.2 m l", "another unit")


def test_a_role_the_evidence_gives_someone_else_is_contradicted() -> None:
    evidence = [ev("ev-fr", "Maison Élore, headquartered in Grasse, posted sales of EUR 340 million.",
                   {"Maison Élore sales_eur_m": 340})]
    result = run(evidence, openai=[("o1", "Maison Élore is headquartered in Grasse.")],
                 gemini=[("g1", "Maison Élore is based in Paris.")])
    assert member(result, "o1").grounding == "supported"
    assert member(result, "g1").grounding == "contradicted"
    assert "names Grasse, not Paris" in member(result, "g1").reasons[0]
    assert_one_disagreement(result, {"o1", "g1"})


def test_led_by_is_a_leader_claim() -> None:
    evidence = [ev("ev-in",
                   "Hydrozing led India's sports-drink market in 2023 with a 29% share, ahead of Boltaro at 17%.",
                   {"Hydrozing share_pct": 29, "Boltaro share_pct": 17})]
    result = run(evidence, openai=[("o1", "The Indian sports-drink market is led by Boltaro.")])
    assert member(result, "o1").grounding == "contradicted"
