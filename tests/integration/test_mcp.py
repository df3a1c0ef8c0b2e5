"""The Discovery Cache and Resource Broker against real MCP servers over stdio: the bundled one and test servers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from actors.mcp import BrokerResult, DiscoveryCache, ResourceBroker
from cluster.settings import Settings
from schemas import AgentError, StepTimeout
from schemas.profiles import CountryProfile, RatesTable

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

T = TypeVar("T")
MARKET_DATA = Settings().resolved_mcp_servers()

# A server with a slow tool that reports how many calls it was serving at once, and its pid.
TESTING_SERVER = """
import asyncio, os
from mcp.server.mcpserver import MCPServer

server = MCPServer("testing", log_level="WARNING")
state = {"now": 0, "peak": 0}

@server.tool()
async def slow(seconds: float) -> dict[str, int]:
    state["now"] += 1
    state["peak"] = max(state["peak"], state["now"])
    try:
        await asyncio.sleep(seconds)
    finally:
        state["now"] -= 1
    return {"peak": state["peak"]}

@server.tool()
def pid() -> dict[str, int]:
    return {"pid": os.getpid()}

server.run()
"""

# A "server" that reads requests and never answers; it exits when its stdin closes.
HANGING_SERVER = """
import sys
for _line in sys.stdin:
    pass
"""


def run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one async test body on a fresh event loop."""
    return asyncio.run(factory())


def fields(result: BrokerResult) -> dict[str, Any]:
    """The result's structured content, which must be a JSON object."""
    assert isinstance(result.content, dict), result
    return result.content


def script_server(tmp_path: Path, name: str, source: str) -> dict[str, dict[str, Any]]:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return {name: {"command": sys.executable, "args": [str(path)]}}


async def open_pair(servers: dict[str, dict[str, Any]], **broker_options: Any) -> tuple[DiscoveryCache, ResourceBroker]:
    cache = DiscoveryCache(servers, ttl_s=300, timeout_s=broker_options.get("timeout_s", 20))
    return cache, ResourceBroker(servers, cache, **{"timeout_s": 20, "max_concurrency": 4, **broker_options})


async def close_pair(cache: DiscoveryCache, broker: ResourceBroker) -> None:
    await asyncio.gather(cache.close(), broker.close())


def test_bundled_server_lists_its_tools_with_schemas() -> None:
    async def body() -> None:
        cache = DiscoveryCache(MARKET_DATA, timeout_s=20)
        try:
            tools = {t.name: t for t in await cache.tools("market-data")}
        finally:
            await cache.close()
        assert sorted(tools) == ["brand", "competitors", "country_facts", "market_size"]
        brand = tools["brand"]
        assert brand.inputSchema["required"] == ["name"]
        assert brand.inputSchema["properties"]["countries"]["type"] == "array"
        assert brand.outputSchema and {"found", "markets", "note"} <= set(brand.outputSchema["properties"])
        assert all(t.server == "market-data" for t in tools.values())
        facts = tools["country_facts"]
        assert facts.inputSchema["required"] == ["country"]
        assert facts.inputSchema["properties"]["country"]["type"] == "string"
        assert {"name", "capital", "population", "area_km2", "currencies", "languages", "region"} <= set(
            facts.outputSchema["properties"] if facts.outputSchema else {}
        )
        size = tools["market_size"]
        assert set(size.inputSchema["properties"]) == {"country", "category"}
        assert size.outputSchema is not None
        assert {"value_eur_m", "growth_pct", "year", "basis"} <= set(size.outputSchema["properties"])
        assert "SAMPLE" in size.description and "SAMPLE" in tools["competitors"].description

    run(body)


def test_tool_calls_and_resource_reads_through_the_broker() -> None:
    async def body() -> None:
        cache, broker = await open_pair(MARKET_DATA)
        try:
            facts = await broker.resolve("mcp://market-data/country_facts?country=DE")
            size = await broker.resolve("mcp://market-data/market_size?country=DE&category=oat%20milk")
            estimate = await broker.resolve("mcp://market-data/market_size?country=PL&category=coffee")
            rivals = await broker.resolve("mcp://market-data/competitors?country=FR&category=dairy%20alternatives")
            notice = await broker.resolve("mcp://market-data/dataset/notice")
        finally:
            await close_pair(cache, broker)
        assert (facts.kind, facts.server) == ("tool", "market-data")
        facts_ = fields(facts)
        assert facts_["capital"] == "Berlin" and facts_["currencies"] == ["EUR"]
        assert facts_["languages"] == ["German"] and facts_["population"] > 1_000_000
        assert fields(size) == {
            "country": "DE", "country_name": "Germany", "category": "oat milk", "matched_category": "dairy alternatives",
            "available": True, "year": 2024, "value_eur_m": 1480.0, "growth_pct": 6.4, "basis": "sample dataset",
            "note": "sample dataset (illustrative, not real market figures)",
        }  # fmt: skip
        assert fields(estimate)["basis"] == "sample estimate" and fields(estimate)["value_eur_m"] > 0
        shares = [c["share_pct"] for c in fields(rivals)["competitors"]]
        assert shares == sorted(shares, reverse=True) and len(shares) == 4
        assert notice.kind == "resource" and notice.mime_type == "text/plain"
        assert "not real market figures" in notice.text and "Dataset mka-market-sample v1" in notice.text
        assert notice.meta and notice.meta["io.mka/evidence-id"] == "ev-dataset-notice"  # the server names its item
        assert size.meta and size.meta["io.mka/evidence-id"] == "ev-de-market" and "EUR 1,480.0 million" in size.text

    run(body)


def test_country_profiles_and_the_rates_table_are_resources() -> None:
    async def body() -> None:
        cache, broker = await open_pair(MARKET_DATA)
        try:
            de = await broker.resolve("mcp://market-data/profiles/DE")
            jp = await broker.resolve("mcp://market-data/profiles/jp")
            rates = await broker.resolve("mcp://market-data/rates/latest")
            with pytest.raises(AgentError, match="no country profile for 'XX'"):
                await broker.resolve("mcp://market-data/profiles/XX")
        finally:
            await close_pair(cache, broker)
        profile = CountryProfile.model_validate(fields(de))
        assert (profile.country, profile.default_locale, profile.currency) == ("DE", "de_DE", "EUR")
        assert "eu-dairy-terms" in {n.id for n in profile.legal_notes} and profile.holidays
        assert CountryProfile.model_validate(fields(jp)).formats.currency_example == "￥1,234"
        table = RatesTable.model_validate(fields(rates))
        assert table.base == "EUR" and str(table.date) == "2026-11-27" and table.rates["JPY"] > 100

    run(body)


def test_unknown_country_unknown_tool_and_unknown_resource_are_clear_errors() -> None:
    async def body() -> None:
        cache, broker = await open_pair(MARKET_DATA)
        try:
            with pytest.raises(AgentError, match="unknown country 'XX': expected an ISO 3166-1 alpha-2 code") as err:
                await broker.resolve("mcp://market-data/country_facts?country=XX")
            assert not err.value.retryable
            with pytest.raises(AgentError, match=r"no tool 'gdp' \(offers: brand, competitors, country_facts, market_size\)"):
                await broker.resolve("mcp://market-data/gdp?country=DE")
            with pytest.raises(AgentError, match="Unknown resource: market-data://dataset/nothing"):
                await broker.resolve("mcp://market-data/dataset/nothing")
            with pytest.raises(AgentError, match="missing required parameter"):
                await broker.resolve("mcp://market-data/country_facts")
            # the session survived every rejection
            assert fields(await broker.resolve("mcp://market-data/country_facts?country=NL"))["capital"] == "Amsterdam"
        finally:
            await close_pair(cache, broker)

    run(body)


def test_per_server_concurrency_limit_is_honoured(tmp_path: Path) -> None:
    servers = script_server(tmp_path, "testing", TESTING_SERVER)

    async def body() -> None:
        cache, broker = await open_pair(servers, max_concurrency=2)
        try:
            await broker.resolve("mcp://testing/slow?seconds=0")  # connect first
            started = time.monotonic()
            results = await asyncio.gather(*(broker.resolve("mcp://testing/slow?seconds=0.3") for _ in range(6)))
            elapsed = time.monotonic() - started
            stats = await broker.stats()
        finally:
            await close_pair(cache, broker)
        assert max(fields(r)["peak"] for r in results) == 2  # seen by the server
        assert stats["testing"]["peak"] == 2
        assert elapsed >= 0.85  # three waves of two

    run(body)


def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    servers = script_server(tmp_path, "hanging", HANGING_SERVER)

    async def body() -> None:
        cache, broker = await open_pair(servers, timeout_s=1.0)
        started = time.monotonic()
        try:
            with pytest.raises(StepTimeout, match="'hanging' did not list its tools within 1s") as err:
                await broker.resolve("mcp://hanging/anything?x=1")
            assert err.value.retryable
            with pytest.raises(StepTimeout, match="'hanging' timed out after 1s reading mcp://hanging/some/resource"):
                await broker.resolve("mcp://hanging/some/resource")
        finally:
            await close_pair(cache, broker)
        assert time.monotonic() - started < 10  # hung processes were stopped, not waited for

    run(body)


def test_a_slow_tool_times_out_and_the_session_stays_usable(tmp_path: Path) -> None:
    servers = script_server(tmp_path, "testing", TESTING_SERVER)

    async def body() -> None:
        cache, broker = await open_pair(servers, timeout_s=5.0)
        try:
            await broker.resolve("mcp://testing/slow?seconds=0")
            broker._timeout_s = 0.3  # noqa: SLF001 - shorten only the slow call, not the connect
            with pytest.raises(StepTimeout, match="timed out after 0.3s calling mcp://testing/slow"):
                await broker.resolve("mcp://testing/slow?seconds=30")
            assert (await broker.resolve("mcp://testing/slow?seconds=0")).content == {"peak": 1}
        finally:
            await close_pair(cache, broker)

    run(body)


def test_a_crashed_server_is_restarted_on_the_next_request(tmp_path: Path) -> None:
    servers = script_server(tmp_path, "testing", TESTING_SERVER)

    async def body() -> None:
        cache, broker = await open_pair(servers)
        try:
            first = fields(await broker.resolve("mcp://testing/pid"))["pid"]
            os.kill(first, signal.SIGKILL)
            second = fields(await broker.resolve("mcp://testing/pid"))["pid"]  # fails, refreshes, reconnects, retries
            assert second != first
            assert cache.fetches == 2  # the error refreshed the catalog
        finally:
            await close_pair(cache, broker)

    run(body)
