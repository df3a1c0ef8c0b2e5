"""Data collection against the bundled market-data server, in process and through real Ray actors."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from actors.data_collection import CollectionConfig, DataCollectionAgent
from actors.mcp import BrokerHandle, CatalogHandle, DiscoveryCache, ResourceBroker, parse_mcp_uri
from cluster.settings import Settings
from schemas import AgentError, Brief, Evidence
from schemas.pipeline import CollectRequest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SERVERS = Settings().resolved_mcp_servers()
EXPECTED_IDS = [
    "ev-dataset-notice",
    "ev-de-facts", "ev-de-market", "ev-de-competitors",
    "ev-fr-facts", "ev-fr-market", "ev-fr-competitors",
    "ev-brand-oatfield", "ev-brand-alpro",  # the brief's competitors: one in the sample data, one not
]  # fmt: skip


async def collect_twice(request: CollectRequest, other: CollectRequest) -> tuple[list[Evidence], list[Evidence]]:
    cache = DiscoveryCache(SERVERS, timeout_s=20)
    broker = ResourceBroker(SERVERS, cache, timeout_s=20, max_concurrency=4)
    agent = DataCollectionAgent(broker, cache, CollectionConfig.from_servers(SERVERS))
    try:
        first, second = await agent.collect(request), await agent.collect(other)
        assert [(s.source, s.status, s.items) for s in first.sources] == [("mcp://market-data", "ok", 9)]
        return first.evidence, second.evidence
    finally:
        await asyncio.gather(cache.close(), broker.close())


def check_evidence(evidence: list[Evidence]) -> None:
    assert [e.id for e in evidence] == EXPECTED_IDS
    for item in evidence:
        target = parse_mcp_uri(item.source, servers=SERVERS)
        assert target.server == "market-data" and item.source_type == "dataset" and item.retrieved_at is not None
        assert item.text and all(isinstance(v, float) for v in (item.data or {}).values())
    by_id = {e.id: e for e in evidence}
    assert "not real market figures" in by_id["ev-dataset-notice"].text
    assert by_id["ev-de-facts"].text.startswith("Germany (DE): capital Berlin")
    assert by_id["ev-de-market"].data == {"value_eur_m": 1480.0, "growth_pct": 6.4, "year": 2024.0}
    assert by_id["ev-fr-market"].source == (
        "mcp://market-data/market_size?country=FR&category=plant-based%20dairy%20alternatives"
    )
    assert by_id["ev-fr-competitors"].data and by_id["ev-fr-competitors"].data["Soyana share_pct"] == 24.5
    # Every competitor the brief names is looked up, and one the data lacks is said to be missing.
    assert "Germany (DE) 27.0% share at EUR 2.29" in by_id["ev-brand-oatfield"].text
    assert by_id["ev-brand-alpro"].text.startswith("No data collected on Alpro:")
    assert by_id["ev-brand-alpro"].source == (
        "mcp://market-data/brand?name=Alpro&category=plant-based%20dairy%20alternatives&countries=DE&countries=FR"
    )


def test_collect_returns_stable_evidence_for_a_pseudonymized_brief(make_brief: Callable[..., Brief]) -> None:
    product = {"name": "Oat Barista", "category": "plant-based dairy alternatives"}
    raw = make_brief(markets=["DE", "FR"], product=product, audience="Customers of Maria Keller in Berlin",
                     competitors=["OATFIELD", "Alpro"])
    pseudonymized = raw.model_copy(update={"audience": "Customers of <PERSON_1> in <LOCATION_1>"})
    first, second = asyncio.run(
        collect_twice(CollectRequest(job_id="job-a", brief=raw), CollectRequest(job_id="job-b", brief=pseudonymized))
    )
    check_evidence(first)
    assert [e.model_copy(update={"retrieved_at": None}) for e in first] == [
        e.model_copy(update={"retrieved_at": None}) for e in second]


@pytest.fixture(scope="module")
def ray_session() -> Iterator[Any]:
    import ray  # a hard dependency: a missing Ray must fail, not skip
    if ray.is_initialized():  # another module's session: reuse it, leave it running
        yield ray
        return
    ray.init(num_cpus=2, include_dashboard=False, namespace=f"mka-test-{uuid.uuid4().hex[:8]}", log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_cache_broker_and_collection_as_ray_actors(ray_session: Any, make_brief: Callable[..., Brief]) -> None:
    ray = ray_session
    cache = ray.remote(DiscoveryCache).options(num_cpus=0).remote(SERVERS, ttl_s=300, timeout_s=30)
    broker = (
        ray.remote(ResourceBroker)
        .options(num_cpus=0)
        .remote(SERVERS, CatalogHandle(cache), timeout_s=30, max_concurrency=4)
    )
    agent = ray.remote(DataCollectionAgent).options(num_cpus=0).remote(
        BrokerHandle(broker), CatalogHandle(cache), CollectionConfig.from_servers(SERVERS))
    product = {"name": "Oat Barista", "category": "plant-based dairy alternatives"}
    brief = make_brief(markets=["DE", "FR"], product=product, competitors=["OATFIELD", "Alpro"])
    request = CollectRequest(job_id="job-ray", brief=brief)
    try:
        evidence = ray.get(agent.collect.remote(request), timeout=90).evidence
        check_evidence(evidence)
        again = ray.get(agent.collect.remote(request), timeout=30).evidence
        assert [e.id for e in again] == [e.id for e in evidence] and [e.text for e in again] == [e.text for e in evidence]

        async def through_handles() -> float:
            handle = BrokerHandle(broker)
            with pytest.raises(AgentError, match="unknown country 'XX'") as err:  # the original error, unwrapped
                await handle.resolve("mcp://market-data/country_facts?country=XX")
            assert type(err.value) is AgentError and not err.value.retryable
            catalog = CatalogHandle(cache)
            assert [t.name for t in await catalog.tools("market-data")][:1] == ["country_facts"]
            started, n = time.perf_counter(), 50
            for _ in range(n):
                await handle.resolve("mcp://market-data/market_size?country=DE&category=coffee")
            return (time.perf_counter() - started) / n

        per_call_s = asyncio.run(through_handles())
        print(f"\nper-call latency through Ray actors: {per_call_s * 1000:.1f} ms")
        assert per_call_s < 1.0
    finally:
        ray.get([broker.close.remote(), cache.close.remote()], timeout=30)
        for actor in (agent, broker, cache):
            ray.kill(actor)
