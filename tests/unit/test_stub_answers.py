"""The stub providers answer the whole brief: every question and market, findings the merge can ground, advice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actors.llm.stub_claims import stub_answer
from actors.merge import merge_answers
from schemas import Evidence, ModelAnswer, parse_brief
from schemas.merge import Quorum

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
BRIEF = parse_brief(yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text()))


def _evidence() -> list[Evidence]:
    """Market data shaped as data collection returns it (ids, tool URIs, data keys)."""
    out = []
    for cc, value, growth, brands in (
        ("DE", 1480.0, 6.4, {"Oatfield": (27.0, 2.29), "Soyana": (19.5, 1.89), "Nutty Grove": (11.0, 2.79)}),
        ("FR", 890.0, 7.1, {"Soyana": (24.5, 1.97), "Oatfield": (22.0, 2.38)}),
        ("NL", 410.0, 8.3, {"Oatfield": (31.0, 2.43), "Soyana": (15.0, 2.0)}),
    ):
        low = cc.lower()
        out.append(Evidence(id=f"ev-{low}-market", source=f"mcp://market-data/market_size?country={cc}",
                            text=f"The market in ({cc}) was worth EUR {value:,.1f} million in 2024.",
                            data={"value_eur_m": value, "growth_pct": growth, "year": 2024.0}))
        data = {}
        for name, (share, price) in brands.items():
            data[f"{name} share_pct"], data[f"{name} price_eur"] = share, price
        out.append(Evidence(id=f"ev-{low}-competitors", source=f"mcp://market-data/competitors?country={cc}",
                            text=f"Leading brands in ({cc}).", data=data))
    return out


def test_every_question_and_market_is_answered_with_one_or_two_recommendations() -> None:
    answer = stub_answer("openai", BRIEF, _evidence())
    claims = answer.claims
    assert {c.question for c in claims} == set(range(len(BRIEF.questions)))
    for q in range(len(BRIEF.questions)):
        mine = [c for c in claims if c.question == q]
        recommendations = [c for c in mine if c.kind == "recommendation"]
        assert 1 <= len(recommendations) <= 2, q
        if q < 2:  # questions the data answers: findings in every market
            assert {c.market for c in mine if c.kind == "finding"} == set(BRIEF.markets)
    unanswered = [c for c in claims if c.question == 2]
    assert all(m in unanswered[0].text for m in ("(DE)", "(FR)", "(NL)"))  # the data does not cover question 3
    assert answer.summary and "question 3 needs primary research" in answer.summary
    assert len({c.id for c in claims}) == len(claims)


def test_stub_findings_are_grounded_by_the_merge_and_nothing_is_flagged() -> None:
    evidence = _evidence()
    answers = [ModelAnswer(provider=p, model=f"stub-{p}", status="ok", latency_s=0.0,
                           claims=stub_answer(p, BRIEF, evidence).claims) for p in ("openai", "gemini", "xai")]
    merged = merge_answers(answers, evidence, Quorum(required=2, received=3))
    findings = [c for c in merged.claims if c.kind == "finding"]
    assert findings and all(c.grounding == "supported" for c in findings), [
        (c.text, c.reasons) for c in findings if c.grounding != "supported"]
    assert not [c.text for c in merged.claims if c.hallucination]
    assert not merged.disagreements
    assert all(c.question is not None and c.kind for c in merged.claims)  # the merge keeps the members' tags


def test_providers_differ_in_what_they_skip_but_agree_on_what_they_say() -> None:
    evidence = _evidence()
    texts = {p: {c.text for c in stub_answer(p, BRIEF, evidence).claims} for p in ("openai", "gemini", "xai")}
    assert texts["openai"] != texts["gemini"] or texts["gemini"] != texts["xai"]
    assert len(texts["openai"] & texts["gemini"] & texts["xai"]) >= 10
