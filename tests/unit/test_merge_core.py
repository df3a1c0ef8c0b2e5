"""Unit tests of the merge: agreement, matching across providers, flags, reliability, disagreements, order."""

from __future__ import annotations

from typing import Any

import pytest

import actors.merge as merge_pkg
from actors.merge import MergeOptions, merge_answers, quorum_of
from schemas import Claim, Evidence, MergeResult, ModelAnswer, Quorum

pytestmark = pytest.mark.unit

EVIDENCE = [
    Evidence(id="ev-de-market", source="mcp://market-data/market_size?country=DE",
             text="The dairy alternatives market in Germany (DE) was worth EUR 1,480.0 million in 2024, growing 6.4% "
                  "a year.", data={"value_eur_m": 1480.0, "growth_pct": 6.4, "year": 2024.0}),
    Evidence(id="ev-fr-market", source="mcp://market-data/market_size?country=FR",
             text="The dairy alternatives market in France (FR) was worth EUR 910.0 million in 2024, growing 5.1% "
                  "a year.", data={"value_eur_m": 910.0, "growth_pct": 5.1, "year": 2024.0}),
    Evidence(id="ev-de-competitors", source="mcp://market-data/competitors?country=DE",
             text="Leading brands in Germany (DE) in 2024: Oatfield 27.0% share at EUR 2.29; Soyana 19.5% share at "
                  "EUR 1.89.", data={"Oatfield share_pct": 27.0, "Oatfield price_eur": 2.29,
                                     "Soyana share_pct": 19.5, "Soyana price_eur": 1.89}),
]


def answer(provider: str, *claims: tuple[Any, ...], status: str = "ok") -> ModelAnswer:
    return ModelAnswer(provider=provider, model=f"{provider}-m", status=status, latency_s=1.0,  # type: ignore[arg-type]
                       claims=[Claim(id=c[0], text=c[1], evidence_ids=list(c[2]) if len(c) > 2 else []) for c in claims])


def merge(*answers: ModelAnswer) -> MergeResult:
    return merge_answers(list(answers), EVIDENCE, quorum_of(list(answers)))


def by_member(result: MergeResult, claim_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in result.claims if claim_id in c.member_claim_ids)


def test_public_surface_is_sorted_and_complete() -> None:
    def kind(name: str) -> int:
        return 0 if name.isupper() else 1 if name[0].isupper() else 2

    assert merge_pkg.__all__ == sorted(merge_pkg.__all__, key=lambda n: (kind(n), n))
    assert all(hasattr(merge_pkg, name) for name in merge_pkg.__all__)


def test_old_positional_signature_still_works() -> None:
    result = merge_answers([answer("openai", ("o1", "Germany grows 6.4%.", ["ev-de-market"]))], EVIDENCE,
                           Quorum(required=1, received=1))
    assert result.claims[0].grounding == "supported" and not result.degraded


def test_paraphrases_across_magnitudes_merge_unanimously() -> None:
    result = merge(answer("openai", ("o1", "Germany's dairy alternatives market is worth €1.48bn.", ["ev-de-market"])),
                   answer("gemini", ("g1", "German plant-based dairy reached EUR 1,480 million in 2024.", ["ev-de-market"])),
                   answer("xai", ("x1", "The market for dairy alternatives in Germany is about 1.5 billion euros.", [])))
    assert len(result.claims) == 1
    claim = result.claims[0]
    assert claim.agreement == "unanimous" and claim.providers == ["openai", "gemini", "xai"]
    assert claim.member_claim_ids == ["o1", "g1", "x1"] and not claim.hallucination
    assert result.disagreements == []


def test_agreement_levels_and_one_claim_per_provider() -> None:
    result = merge(answer("openai", ("o1", "Oatfield holds 27% share.", ["ev-de-competitors"]),
                          ("o2", "Oatfield has a 27% share.", ["ev-de-competitors"])),
                   answer("gemini", ("g1", "Oatfield holds 27% share.", ["ev-de-competitors"])),
                   answer("xai", ("x1", "Soyana costs EUR 1.89.", ["ev-de-competitors"])))
    assert by_member(result, "o1").agreement == "majority"
    assert by_member(result, "o1").member_claim_ids == ["o1", "g1"]
    assert by_member(result, "o2").agreement == "single"
    assert by_member(result, "x1").agreement == "single" and not by_member(result, "x1").hallucination


def test_different_countries_and_brands_do_not_merge() -> None:
    result = merge(answer("openai", ("o1", "Dairy alternatives in France grow 5.1% a year.", ["ev-fr-market"]),
                          ("o2", "Soyana holds 19.5% of the category.", ["ev-de-competitors"])),
                   answer("gemini", ("g1", "Dairy alternatives in Germany grow 6.4% a year.", ["ev-de-market"]),
                          ("g2", "Oatfield holds 27% of the category.", ["ev-de-competitors"])))
    assert len(result.claims) == 4 and result.disagreements == []


def test_numeric_disagreement_lists_positions_and_flags_the_wrong_value() -> None:
    result = merge(answer("openai", ("o1", "The German market grows 6.4% a year.", ["ev-de-market"])),
                   answer("gemini", ("g1", "The German market grows 9.4% a year.", ["ev-de-market"])),
                   answer("xai", ("x1", "Germany's dairy alternatives grow 6.4% annually.", ["ev-de-market"])))
    assert len(result.disagreements) == 1
    d = result.disagreements[0]
    assert d.topic == "growth, DE, 2024" and d.claim_ids == ["o1", "g1", "x1"]
    assert d.positions["gemini"] == "The German market grows 9.4% a year."
    assert by_member(result, "g1").hallucination and by_member(result, "g1").grounding == "contradicted"
    assert by_member(result, "o1").member_claim_ids == ["o1", "x1"] and not by_member(result, "o1").hallucination


def test_polarity_disagreement() -> None:
    result = merge(answer("openai", ("o1", "The German dairy alternatives market is growing.", ["ev-de-market"])),
                   answer("gemini", ("g1", "The German dairy alternatives market is shrinking.", ["ev-de-market"])))
    assert [d.claim_ids for d in result.disagreements] == [["o1", "g1"]]
    assert by_member(result, "g1").grounding == "contradicted"


def test_hallucination_rule_keeps_could_not_be_judged_apart_from_false() -> None:
    result = merge(answer("openai", ("o1", "Flexitarian shoppers drive demand for oat drinks.", []),
                          ("o2", "Cafés are switching to barista oat drinks.", [])),
                   answer("gemini", ("g1", "Cafés are switching to barista oat drinks.", [])))
    single, majority = by_member(result, "o1"), by_member(result, "o2")
    assert single.grounding == "unverifiable" and single.hallucination
    assert any("unverified, not shown false" in r for r in single.reasons)
    assert majority.grounding == "unverifiable" and not majority.hallucination


def test_a_member_citing_missing_evidence_is_split_off_and_flagged() -> None:
    result = merge(answer("openai", ("o1", "The German market grows 6.4% a year.", ["ev-de-market"])),
                   answer("gemini", ("g1", "The German market grows 6.4% a year.", ["ev-invented"])),
                   answer("xai", ("x1", "German dairy alternatives grow 6.4% a year.", ["ev-de-market"])))
    good, bad = by_member(result, "o1"), by_member(result, "g1")
    assert good.member_claim_ids == ["o1", "x1"] and good.grounding == "supported" and not good.hallucination
    assert bad.member_claim_ids == ["g1"] and bad.hallucination
    assert bad.reasons[0] == "flagged: cites evidence that does not exist (ev-invented)"


def test_reliability_picks_the_wording_and_orders_claims() -> None:
    weak = answer("gemini", ("g1", "German dairy alternatives grow 6.4% a year.", ["ev-de-market"]),
                  ("g2", "Soyana costs EUR 2.99.", ["ev-de-competitors"]),
                  ("g3", "Oatfield costs EUR 3.99.", ["ev-de-competitors"]))
    strong = answer("openai", ("o1", "The German market grows 6.4% a year, steadily.", ["ev-de-market"]),
                    ("o2", "Oatfield holds 27% share.", ["ev-de-competitors"]))
    result = merge(weak, strong)
    merged = by_member(result, "g1")
    assert merged.text == "The German market grows 6.4% a year, steadily."  # the more reliable provider speaks
    assert merged.providers == ["gemini", "openai"]
    assert [c.hallucination for c in result.claims] == sorted(c.hallucination for c in result.claims)


def test_pseudonymized_claims_match_on_their_placeholders() -> None:
    result = merge(answer("openai", ("o1", "<PERSON_1> expects German oat drink prices to rise.", [])),
                   answer("gemini", ("g1", "According to <PERSON_1>, oat drink prices in Germany will rise.", [])),
                   answer("xai", ("x1", "<PERSON_2> expects German oat drink prices to rise.", [])))
    assert by_member(result, "o1").member_claim_ids == ["o1", "g1"]
    assert by_member(result, "x1").member_claim_ids == ["x1"]


def test_degraded_when_a_provider_is_missing_and_its_answer_is_ignored() -> None:
    answers = [answer("openai", ("o1", "Germany grows 6.4%.", ["ev-de-market"])),
               answer("gemini", ("g1", "Germany grows 6.4%.", ["ev-de-market"])),
               answer("xai", ("x1", "Germany grows 99%.", ["ev-de-market"]), status="timeout")]
    result = merge(*answers)
    assert result.degraded and result.quorum == Quorum(required=2, received=2, missing=["xai"])
    assert by_member(result, "o1").agreement == "unanimous"  # of the providers that answered
    assert all("x1" not in c.member_claim_ids for c in result.claims)
    below = merge_answers(answers[:1], EVIDENCE, Quorum(required=2, received=1))
    assert below.degraded


def test_output_is_deterministic_and_embeddings_are_optional() -> None:
    answers = [answer("openai", ("o1", "Oatfield holds 27% share.", ["ev-de-competitors"])),
               answer("gemini", ("g1", "Oatfield has 27 percent of the market.", ["ev-de-competitors"]))]
    first = merge(*answers).model_dump_json()
    assert all(merge(*answers).model_dump_json() == first for _ in range(3))

    def embed(texts):  # type: ignore[no-untyped-def]  # a fake model: identical vectors
        return [[1.0, 0.0] for _ in texts]

    with_embeddings = merge_answers(answers, EVIDENCE, quorum_of(answers), options=MergeOptions(embed=embed))
    assert with_embeddings.claims[0].member_claim_ids == ["o1", "g1"]


def test_a_common_word_opening_a_sentence_is_not_a_name_but_a_brand_is() -> None:
    from actors.merge.entities import entities

    assert entities("Premium pods make up 38% of sales.") == []
    assert entities("Zyrax holds 7% of the market.") == ["Zyrax"]
    assert entities("Nutty Grove costs EUR 2.79.") == ["Nutty Grove"]
    assert entities("Premium costs EUR 2.79.", known=frozenset({"premium"})) == ["Premium"]


def test_the_same_sentence_from_every_provider_is_one_claim_however_its_figures_read() -> None:
    """Found by the report's held-out briefs: "50.42 m." read as a plain 50.42 beside the structured 50,423,955
    made three identical claims conflict with each other (three singles and a disagreement of one sentence)."""
    evidence = [Evidence(id="ev-kr", source="mcp://market-data/country_facts?country=KR",
                         text="South Korea (KR): population 50,423,955.", data={"population": 50423955.0})]
    text = "Population in South Korea (KR): 50.42 m."
    answers = [ModelAnswer(provider=p, model="m", status="ok", latency_s=0.0, claims=[
        Claim(id=f"{p}-1", text=text, evidence_ids=["ev-kr"], value=50423955.0, unit="population")])
        for p in ("openai", "gemini", "xai")]
    result = merge_answers(answers, evidence, Quorum(required=2, received=3))
    [claim] = result.claims
    assert claim.agreement == "unanimous" and claim.providers == ["openai", "gemini", "xai"]
    assert result.disagreements == []
