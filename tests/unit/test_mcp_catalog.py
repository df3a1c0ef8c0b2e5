"""Discovery Cache TTL and refresh-on-error, and the broker's checks, limits and timeouts, on a scripted transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from actors.mcp import DiscoveryCache, McpTransport, ResourceBroker, ResourceOutput, ToolOutput, UnknownTool
from schemas import AdapterError, AgentError, McpToolDescriptor, StepTimeout
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit

T = TypeVar("T")
SERVERS: dict[str, dict[str, Any]] = {"market-data": {"command": "unused"}, "other": {"command": "unused"}}
FACTS = McpToolDescriptor(
    name="country_facts",
    inputSchema={"type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]},
    server="market-data",
)
SIZE = McpToolDescriptor(
    name="market_size",
    inputSchema={"type": "object", "properties": {"country": {"type": "string"}, "year": {"type": "integer"}}},
    server="market-data",
)


class ScriptedTransport(McpTransport):
    """An MCP transport whose answers and failures the test scripts; records every request."""

    def __init__(self, tools: list[McpToolDescriptor] | None = None) -> None:
        self.tools = list(tools if tools is not None else [FACTS])
        self.list_errors: list[BaseException] = []
        self.call_errors: list[BaseException] = []
        self.requests: list[tuple[str, ...]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.resets: list[str] = []
        self.gate: asyncio.Event | None = None  # when set, calls wait for it
        self.in_flight = 0
        self.peak = 0
        self.closed = False

    async def list_tools(self, server: str) -> list[McpToolDescriptor]:
        self.requests.append(("tools/list", server))
        if self.list_errors:
            raise self.list_errors.pop(0)
        return list(self.tools)

    async def call_tool(self, server: str, name: str, arguments: dict[str, Any]) -> ToolOutput:
        self.requests.append(("tools/call", server, name))
        self.calls.append((name, arguments))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.call_errors:
                raise self.call_errors.pop(0)
            return ToolOutput(content={"tool": name, **arguments}, text=name)
        finally:
            self.in_flight -= 1

    async def read_resource(self, server: str, uri: str) -> ResourceOutput:
        self.requests.append(("resources/read", server, uri))
        return ResourceOutput(content={"uri": uri}, text=uri, mime_type="application/json")

    async def reset(self, server: str) -> None:
        self.resets.append(server)

    async def close(self) -> None:
        self.closed = True


def run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one async test body on a fresh event loop."""
    return asyncio.run(factory())


def make_cache(transport: ScriptedTransport, clock: FakeClock, **options: Any) -> DiscoveryCache:
    return DiscoveryCache(SERVERS, ttl_s=60, timeout_s=5, clock=clock, transport=transport, **options)


def test_tools_are_cached_until_the_ttl_expires() -> None:
    transport, clock = ScriptedTransport(), FakeClock()
    cache = make_cache(transport, clock)

    async def body() -> None:
        assert [t.name for t in await cache.tools("market-data")] == ["country_facts"]
        clock.advance(59.9)
        await cache.tools("market-data")
        assert cache.fetches == 1
        clock.advance(0.1)
        transport.tools.append(SIZE)
        assert [t.name for t in await cache.tools("market-data")] == ["country_facts", "market_size"]
        assert cache.fetches == 2
        await cache.tools("other")  # each server has its own entry
        assert transport.requests == [("tools/list", "market-data")] * 2 + [("tools/list", "other")]

    run(body)


def test_refresh_and_invalidate_fetch_again() -> None:
    transport, clock = ScriptedTransport(), FakeClock()
    cache = make_cache(transport, clock)

    async def body() -> None:
        await cache.tools("market-data")
        await cache.refresh("market-data")
        await cache.invalidate("market-data")
        await cache.tools("market-data")
        await cache.tools("market-data")
        assert cache.fetches == 3

    run(body)


def test_concurrent_callers_share_one_fetch() -> None:
    transport, clock = ScriptedTransport(), FakeClock()
    cache = make_cache(transport, clock)

    async def body() -> None:
        results = await asyncio.gather(*(cache.tools("market-data") for _ in range(5)))
        assert all(r == [FACTS] for r in results)
        assert cache.fetches == 1

    run(body)


def test_a_transport_error_reconnects_and_fetches_again() -> None:
    transport, clock = ScriptedTransport(), FakeClock()
    transport.list_errors = [AdapterError("connection closed")]
    cache = make_cache(transport, clock)

    async def body() -> None:
        assert await cache.tools("market-data") == [FACTS]
        assert transport.resets == ["market-data"]
        assert cache.fetches == 2

    run(body)


def test_a_second_error_is_raised_and_nothing_stale_is_kept() -> None:
    transport, clock = ScriptedTransport(), FakeClock()
    cache = make_cache(transport, clock)

    async def body() -> None:
        await cache.tools("market-data")
        clock.advance(61)
        transport.list_errors = [AdapterError("down"), AdapterError("still down")]
        with pytest.raises(AdapterError, match="still down"):
            await cache.tools("market-data")
        assert await cache.tools("market-data") == [FACTS]  # recovered: fetched anew
        assert cache.fetches == 4

    run(body)


def test_a_server_that_never_answers_times_out() -> None:
    class Hanging(ScriptedTransport):
        async def list_tools(self, server: str) -> list[McpToolDescriptor]:
            await asyncio.Event().wait()
            return []

    cache = DiscoveryCache(SERVERS, timeout_s=0.05, clock=FakeClock(), transport=Hanging())

    async def body() -> None:
        with pytest.raises(StepTimeout, match="did not list its tools within 0.05s") as err:
            await cache.tools("market-data")
        assert err.value.retryable

    run(body)


def test_unknown_server_and_bad_options() -> None:
    cache = make_cache(ScriptedTransport(), FakeClock())
    with pytest.raises(AgentError, match="unknown MCP server 'nope'; configured: market-data, other"):
        run(lambda: cache.tools("nope"))
    with pytest.raises(ValueError):
        DiscoveryCache(SERVERS, timeout_s=0)


def make_broker(transport: ScriptedTransport, **options: Any) -> tuple[ResourceBroker, DiscoveryCache]:
    cache = make_cache(transport, FakeClock())
    options = {"timeout_s": 5, "max_concurrency": 2, **options}
    return ResourceBroker(SERVERS, cache, transport=transport, **options), cache


def test_tool_call_with_typed_arguments() -> None:
    transport = ScriptedTransport([FACTS, SIZE])
    broker, _ = make_broker(transport)
    result = run(lambda: broker.resolve("mcp://market-data/market_size?country=DE&year=2024"))
    assert result.model_dump(exclude={"blobs", "meta", "mime_type"}) == {
        "uri": "mcp://market-data/market_size?country=DE&year=2024",
        "server": "market-data",
        "kind": "tool",
        "content": {"tool": "market_size", "country": "DE", "year": 2024},
        "text": "market_size",
    }
    assert transport.calls == [("market_size", {"country": "DE", "year": 2024})]


def test_resource_read() -> None:
    transport = ScriptedTransport()
    broker, cache = make_broker(transport)
    result = run(lambda: broker.resolve("mcp://market-data/dataset/notice"))
    assert (result.kind, result.content) == ("resource", {"uri": "market-data://dataset/notice"})
    assert cache.fetches == 0  # resources need no tool listing


def test_a_tool_missing_from_the_cache_refreshes_it_once() -> None:
    transport = ScriptedTransport([FACTS])
    broker, cache = make_broker(transport)

    async def body() -> None:
        await cache.tools("market-data")
        transport.tools.append(SIZE)  # the server gained a tool since the listing
        result = await broker.resolve("mcp://market-data/market_size?country=DE")
        assert result.content == {"tool": "market_size", "country": "DE"}
        assert cache.fetches == 2

    run(body)


def test_a_tool_that_stays_missing_is_a_clear_error() -> None:
    broker, cache = make_broker(ScriptedTransport([FACTS]))
    with pytest.raises(AgentError, match=r"has no tool 'nope' \(offers: country_facts\)") as err:
        run(lambda: broker.resolve("mcp://market-data/nope?x=1"))
    assert not err.value.retryable
    assert cache.fetches == 2


@pytest.mark.parametrize("error", [UnknownTool("gone"), AdapterError("connection closed")])
def test_unknown_tool_or_transport_error_refreshes_and_retries_once(error: Exception) -> None:
    transport = ScriptedTransport()
    transport.call_errors = [error]
    broker, cache = make_broker(transport)
    result = run(lambda: broker.resolve("mcp://market-data/country_facts?country=FR"))
    assert result.content == {"tool": "country_facts", "country": "FR"}
    assert cache.fetches == 2
    assert [r[0] for r in transport.requests] == ["tools/list", "tools/call", "tools/list", "tools/call"]


def test_tool_errors_are_not_retried() -> None:
    transport = ScriptedTransport()
    transport.call_errors = [AgentError("unknown country 'XX'")]
    broker, _ = make_broker(transport)
    with pytest.raises(AgentError, match="unknown country"):
        run(lambda: broker.resolve("mcp://market-data/country_facts?country=XX"))
    assert len(transport.calls) == 1


def test_bad_arguments_never_reach_the_server() -> None:
    transport = ScriptedTransport([SIZE])
    broker, _ = make_broker(transport)
    with pytest.raises(AgentError, match="'year'='soon' is not a valid integer"):
        run(lambda: broker.resolve("mcp://market-data/market_size?country=DE&year=soon"))
    assert transport.calls == []


def test_per_server_concurrency_limit() -> None:
    transport = ScriptedTransport()
    broker, _ = make_broker(transport, max_concurrency=2)

    async def body() -> None:
        transport.gate = asyncio.Event()
        uris = [f"mcp://market-data/country_facts?country=C{i}" for i in range(6)]
        tasks = [asyncio.ensure_future(broker.resolve(uri)) for uri in uris]
        while transport.in_flight < 2:  # wait for the condition, not for time
            await asyncio.sleep(0)
        for _ in range(20):  # give the other four every chance to sneak past the limit
            await asyncio.sleep(0)
        assert transport.in_flight == 2
        assert (await broker.stats())["market-data"] == {"in_flight": 2, "peak": 2}
        transport.gate.set()
        results = await asyncio.gather(*tasks)
        assert len(results) == 6
        assert transport.peak == 2
        assert (await broker.stats())["market-data"] == {"in_flight": 0, "peak": 2}

    run(body)


def test_a_slow_call_times_out_as_a_retryable_step_timeout() -> None:
    transport = ScriptedTransport()
    broker, _ = make_broker(transport, timeout_s=0.05)
    transport.gate = asyncio.Event()  # never set: the call hangs
    with pytest.raises(StepTimeout, match="timed out after 0.05s calling mcp://market-data/country_facts") as err:
        run(lambda: broker.resolve("mcp://market-data/country_facts?country=DE"))
    assert err.value.retryable


def test_close_closes_the_transport() -> None:
    transport = ScriptedTransport()
    broker, cache = make_broker(transport)
    run(broker.close)
    assert transport.closed
