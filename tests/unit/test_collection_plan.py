"""Data collection on a scripted broker: which URIs it asks for, evidence ids, texts, numbers and failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from actors.data_collection import DataCollectionAgent, plan_calls
from actors.mcp import BrokerResult, parse_mcp_uri
from schemas import AgentError, Brief, StepTimeout
from schemas.pipeline import CollectRequest

pytestmark = pytest.mark.unit

CONTENT: dict[str, dict[str, Any]] = {
    "notice": {"notice": "Illustrative sample data.", "dataset": "mka-market-sample", "version": 1, "year": 2024},
    "country_facts": {
        "country": "DE", "name": "Germany", "capital": "Berlin", "population": 80783000, "area_km2": 357114.0,
        "currencies": ["EUR"], "languages": ["German"], "region": "Europe", "subregion": "Western Europe",
    },
    "market_size": {
        "country": "DE", "country_name": "Germany", "category": "coffee", "available": True, "year": 2024,
        "value_eur_m": 5120.0, "growth_pct": 2.1, "basis": "sample dataset",
    },
    "competitors": {
        "country": "DE", "country_name": "Germany", "category": "coffee", "available": True, "year": 2024,
        "competitors": [{"name": "Crema Nova", "share_pct": 27.0, "price_eur": 7.49}],
    },
    "brand": {
        "name": "Alpro", "category": "coffee", "matched_category": "coffee", "found": False, "year": 2024,
        "countries": ["DE"], "markets": [], "note": "the sample dataset lists no coffee brand named 'Alpro' in DE",
    },
}  # fmt: skip


class ScriptedBroker:
    """Answers every URI from canned content (in reverse order of arrival); can fail chosen URIs."""

    def __init__(self, failures: dict[str, Exception] | None = None) -> None:
        self.uris: list[str] = []
        self.failures = failures or {}

    async def resolve(self, uri: str) -> BrokerResult:
        self.uris.append(uri)
        await asyncio.sleep(0.001 * (10 - len(self.uris) % 10))  # finish out of order
        if uri in self.failures:
            raise self.failures[uri]
        target = parse_mcp_uri(uri)
        content = dict(CONTENT["notice" if target.kind == "resource" else target.name])
        content.update({k: v[0] for k, v in target.query.items() if k == "country"})
        return BrokerResult(uri=uri, server=target.server, kind=target.kind, content=content, text="")


def request(make_brief: Callable[..., Brief], **overrides: Any) -> CollectRequest:
    return CollectRequest(job_id="job-1", brief=make_brief(**overrides))


def test_plan_asks_per_market_in_brief_order(make_brief: Callable[..., Brief]) -> None:
    calls = plan_calls(request(make_brief, markets=["fr", "DE"], product={"name": "X", "category": "oat milk"},
                               competitors=["Alpro", "Califia Farms", "Ben & Jerry's"]))
    assert [c.evidence_id for c in calls] == [
        "ev-dataset-notice",
        "ev-fr-facts", "ev-fr-market", "ev-fr-competitors",
        "ev-de-facts", "ev-de-market", "ev-de-competitors",
        "ev-brand-alpro", "ev-brand-califia-farms", "ev-brand-ben-jerry-s",  # every competitor the brief names
    ]  # fmt: skip
    assert calls[8].uri == "mcp://market-data/brand?name=Califia%20Farms&category=oat%20milk&countries=FR&countries=DE"
    assert calls[0].uri == "mcp://market-data/dataset/notice"
    assert calls[1].uri == "mcp://market-data/country_facts?country=FR"
    assert calls[2].uri == "mcp://market-data/market_size?country=FR&category=oat%20milk"
    assert calls[3].uri == "mcp://market-data/competitors?country=FR&category=oat%20milk"


def test_missing_category_asks_for_general(make_brief: Callable[..., Brief]) -> None:
    calls = plan_calls(request(make_brief, markets=["DE"], product={"name": "X"}))
    assert calls[2].uri.endswith("category=general")


def test_collect_builds_evidence_in_plan_order(make_brief: Callable[..., Brief]) -> None:
    broker = ScriptedBroker()
    req = request(make_brief, markets=["DE"], competitors=["Alpro"])
    evidence = asyncio.run(DataCollectionAgent(broker).collect(req))
    assert [e.id for e in evidence] == [
        "ev-dataset-notice", "ev-de-facts", "ev-de-market", "ev-de-competitors", "ev-brand-alpro"
    ]  # fmt: skip
    assert [e.source for e in evidence] == [c.uri for c in plan_calls(req)]
    notice, facts, market, rivals, brand = evidence
    assert brand.data is None and brand.text == (
        "No data collected on Alpro: the sample dataset lists no coffee brand named 'Alpro' in DE."
    )
    assert notice.data is None and "Illustrative sample data." in notice.text
    assert facts.data == {"population": 80783000.0, "area_km2": 357114.0}
    assert facts.text.startswith("Germany (DE): capital Berlin; population 80,783,000")
    assert market.data == {"value_eur_m": 5120.0, "growth_pct": 2.1, "year": 2024.0}
    assert "EUR 5,120.0 million in 2024" in market.text and "not real" in market.text
    assert rivals.data == {"Crema Nova share_pct": 27.0, "Crema Nova price_eur": 7.49}


def test_only_markets_category_and_competitor_names_are_used(make_brief: Callable[..., Brief]) -> None:
    raw = make_brief(audience="Maria Keller's customers in Berlin", questions=["Call maria@example.com?"])
    pseudonymized = raw.model_copy(update={"audience": "<PERSON_1>'s customers", "questions": ["Call <EMAIL_1>?"]})
    agent = DataCollectionAgent(ScriptedBroker())
    first = asyncio.run(agent.collect(CollectRequest(job_id="a", brief=raw)))
    second = asyncio.run(agent.collect(CollectRequest(job_id="b", brief=pseudonymized)))
    assert first == second
    assert not any("Maria" in e.text or "<PERSON" in e.text for e in first)


def test_unavailable_figures_say_so_without_numbers(make_brief: Callable[..., Brief]) -> None:
    class Unavailable(ScriptedBroker):
        async def resolve(self, uri: str) -> BrokerResult:
            result = await super().resolve(uri)
            if isinstance(result.content, dict) and "available" in result.content:
                result.content.update(available=False, note="no sample data", competitors=[])
            return result

    evidence = asyncio.run(DataCollectionAgent(Unavailable()).collect(request(make_brief, markets=["DE"],
                                                                              competitors=[])))
    assert evidence[2].data is None and evidence[2].text.startswith("No coffee market figure for Germany (DE)")
    assert evidence[3].data is None and "No coffee competitor data" in evidence[3].text


def test_the_first_failure_in_plan_order_is_raised(make_brief: Callable[..., Brief]) -> None:
    req = request(make_brief, markets=["DE", "FR"])
    uris = [c.uri for c in plan_calls(req)]
    broker = ScriptedBroker({uris[6]: AgentError("late"), uris[2]: StepTimeout("early")})
    with pytest.raises(StepTimeout, match="early"):
        asyncio.run(DataCollectionAgent(broker).collect(req))
    assert sorted(broker.uris) == sorted(uris)  # every call was awaited, none left running
