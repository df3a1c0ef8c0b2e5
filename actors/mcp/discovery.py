"""The Discovery Cache: each configured MCP server's `tools/list` and `resources/list`, kept for a TTL, refreshed on error."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from actors.clock import Clock, SystemClock
from actors.mcp._transport import McpTransport, StdioTransport
from schemas import AdapterError, AgentError, McpToolDescriptor, StepTimeout
from schemas.mcp import McpResourceDescriptor

__all__ = ["DiscoveryCache"]


@dataclass(frozen=True)
class _Entry:
    tools: tuple[McpToolDescriptor, ...]
    fetched_at: float
    resources: tuple[McpResourceDescriptor, ...] = ()


class DiscoveryCache:
    """Caches `tools/list` per server with a TTL on an injected clock; reconnects and refetches on error.

    Constructed from plain arguments and connects lazily, so it can be wrapped as a Ray actor.

    Example:
        >>> cache = DiscoveryCache(Settings().resolved_mcp_servers(), ttl_s=300, clock=SystemClock())  # doctest: +SKIP
        >>> [tool.name for tool in await cache.tools("market-data")]  # doctest: +SKIP
        ['country_facts', 'market_size', 'competitors']
    """

    def __init__(
        self,
        servers: dict[str, dict[str, Any]],
        *,
        ttl_s: float = 300.0,
        timeout_s: float = 20.0,
        clock: Clock | None = None,
        transport: McpTransport | None = None,
    ) -> None:
        if ttl_s < 0 or timeout_s <= 0:
            raise ValueError("ttl_s must be >= 0 and timeout_s > 0")
        self._servers = {name: dict(cfg) for name, cfg in servers.items()}
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock or SystemClock()
        self._transport = transport or StdioTransport(self._servers)
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0  # tools/list requests sent, for tests and metrics

    def servers(self) -> list[str]:
        """Configured server names, sorted."""
        return sorted(self._servers)

    async def tools(self, server: str) -> list[McpToolDescriptor]:
        """The server's tools: from the cache while fresh, else fetched again."""
        self._check(server)
        entry = self._entries.get(server)
        if entry is not None and self._fresh(entry):
            return list(entry.tools)
        async with self._lock(server):
            entry = self._entries.get(server)  # another caller may have refreshed meanwhile
            if entry is not None and self._fresh(entry):
                return list(entry.tools)
            return await self._fetch(server)

    async def resources(self, server: str) -> list[McpResourceDescriptor]:
        """The server's concrete resources, cached with its tools."""
        await self.tools(server)
        entry = self._entries.get(server)
        return list(entry.resources) if entry is not None else []

    async def refresh(self, server: str) -> list[McpToolDescriptor]:
        """Fetch the server's tools now, whatever the cache holds."""
        self._check(server)
        async with self._lock(server):
            return await self._fetch(server)

    async def invalidate(self, server: str) -> None:
        """Forget the server's cached tools; the next `tools` call fetches them."""
        self._check(server)
        self._entries.pop(server, None)

    async def close(self) -> None:
        """Close the sessions to every server."""
        await self._transport.close()

    def _check(self, server: str) -> None:
        if server not in self._servers:
            known = ", ".join(self.servers()) or "none"
            raise AgentError(f"unknown MCP server {server!r}; configured: {known}", retryable=False)

    def _fresh(self, entry: _Entry) -> bool:
        return self._clock.monotonic() - entry.fetched_at < self._ttl_s

    def _lock(self, server: str) -> asyncio.Lock:
        return self._locks.setdefault(server, asyncio.Lock())

    async def _fetch(self, server: str) -> list[McpToolDescriptor]:
        """List tools; on a transport error reconnect and try once more. Drops the entry on failure."""
        self._entries.pop(server, None)
        try:
            tools, resources = await self._list(server)
        except AdapterError:
            await self._transport.reset(server)
            tools, resources = await self._list(server)
        self._entries[server] = _Entry(tuple(tools), self._clock.monotonic(), tuple(resources))
        return list(tools)

    async def _list(self, server: str) -> tuple[list[McpToolDescriptor], list[McpResourceDescriptor]]:
        self.fetches += 1
        try:
            tools = await asyncio.wait_for(self._transport.list_tools(server), self._timeout_s)
        except asyncio.TimeoutError as exc:
            raise StepTimeout(f"MCP server {server!r} did not list its tools within {self._timeout_s:g}s") from exc
        try:
            resources = await asyncio.wait_for(self._transport.list_resources(server), self._timeout_s)
        except AgentError:  # a server may offer tools and reject resources/list: it simply has none for us
            resources = []
        except asyncio.TimeoutError as exc:
            raise StepTimeout(f"MCP server {server!r} did not list its resources within {self._timeout_s:g}s") from exc
        return tools, resources
