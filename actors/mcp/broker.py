"""The Resource Broker: resolves `mcp://` URIs to tool calls and resource reads, with per-server limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, JsonValue

from actors.mcp._transport import Blob, McpTransport, ResourceOutput, StdioTransport, ToolOutput, UnknownTool
from actors.mcp.uris import McpUri, coerce_arguments, parse_mcp_uri
from schemas import AdapterError, AgentError, McpToolDescriptor, StepTimeout

__all__ = ["BrokerResult", "Catalog", "ResourceBroker"]

T = TypeVar("T")


class Catalog(Protocol):
    """What the broker needs from the Discovery Cache (or an adapter to its actor)."""

    async def tools(self, server: str) -> list[McpToolDescriptor]:
        """The server's tools, possibly cached."""
        ...

    async def refresh(self, server: str) -> list[McpToolDescriptor]:
        """The server's tools, fetched now."""
        ...


class BrokerResult(BaseModel):
    """What a resolved URI returned."""

    uri: str
    server: str
    kind: Literal["tool", "resource"]
    content: JsonValue = None
    text: str = ""
    blobs: list[Blob] = []
    meta: dict[str, Any] | None = None
    mime_type: str | None = None


class ResourceBroker:
    """Resolves `mcp://<server>/<tool>?<args>` and `mcp://<server>/<resource/path>` URIs.

    Tools are checked against the catalog first (refreshed once when a tool is missing or the
    server connection fails); each server has a concurrency limit and every request a timeout.

    Example:
        >>> broker = ResourceBroker(servers, catalog)  # doctest: +SKIP
        >>> (await broker.resolve("mcp://market-data/country_facts?country=DE")).content["capital"]  # doctest: +SKIP
        'Berlin'
    """

    def __init__(
        self,
        servers: dict[str, dict[str, Any]],
        catalog: Catalog,
        *,
        timeout_s: float = 20.0,
        max_concurrency: int = 4,
        transport: McpTransport | None = None,
    ) -> None:
        if timeout_s <= 0 or max_concurrency < 1:
            raise ValueError("timeout_s must be > 0 and max_concurrency >= 1")
        self._servers = {name: dict(cfg) for name, cfg in servers.items()}
        self._catalog = catalog
        self._timeout_s = timeout_s
        self._max_concurrency = max_concurrency
        self._transport = transport or StdioTransport(self._servers)
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._in_flight: dict[str, int] = {}
        self._peak: dict[str, int] = {}

    async def resolve(self, uri: str) -> BrokerResult:
        """Call the tool or read the resource the URI names."""
        target = parse_mcp_uri(uri, servers=self._servers)
        if target.kind == "resource":
            try:
                read = await self._limited(target.server, f"reading {uri}", lambda: self._read(target))
            except AdapterError:  # the transport reconnects on the next request
                read = await self._limited(target.server, f"reading {uri}", lambda: self._read(target))
            return BrokerResult(uri=uri, server=target.server, kind="resource", content=read.content, text=read.text,
                                blobs=read.blobs, meta=read.meta, mime_type=read.mime_type)
        try:
            out = await self._call_checked(target, uri, refresh=False)
        except (UnknownTool, AdapterError):
            out = await self._call_checked(target, uri, refresh=True)
        return BrokerResult(uri=uri, server=target.server, kind="tool", content=out.content, text=out.text,
                            blobs=out.blobs, meta=out.meta)

    async def stats(self) -> dict[str, dict[str, int]]:
        """Requests in flight now and at most, per server."""
        return {
            name: {"in_flight": self._in_flight.get(name, 0), "peak": self._peak.get(name, 0)} for name in self._servers
        }

    async def close(self) -> None:
        """Close the sessions to every server."""
        await self._transport.close()

    async def _call_checked(self, target: McpUri, uri: str, *, refresh: bool) -> ToolOutput:
        tools = await (self._catalog.refresh if refresh else self._catalog.tools)(target.server)
        tool = next((t for t in tools if t.name == target.name), None)
        if tool is None and not refresh:
            raise UnknownTool(f"MCP server {target.server!r} has no tool {target.name!r}")
        if tool is None:
            offered = ", ".join(sorted(t.name for t in tools)) or "none"
            raise AgentError(
                f"MCP server {target.server!r} has no tool {target.name!r} (offers: {offered})", retryable=False
            )
        arguments = coerce_arguments(target.query, tool.inputSchema, tool=f"{target.server}/{tool.name}")

        async def call() -> ToolOutput:
            return await self._transport.call_tool(target.server, tool.name, arguments)

        return await self._limited(target.server, f"calling {uri}", call)

    async def _read(self, target: McpUri) -> ResourceOutput:
        return await self._transport.read_resource(target.server, target.resource_uri())

    async def _limited(self, server: str, what: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work()` under the server's semaphore and the request timeout."""
        semaphore = self._semaphores.setdefault(server, asyncio.Semaphore(self._max_concurrency))
        async with semaphore:
            self._enter(server)
            try:
                return await asyncio.wait_for(work(), self._timeout_s)
            except asyncio.TimeoutError as exc:
                raise StepTimeout(f"MCP server {server!r} timed out after {self._timeout_s:g}s {what}") from exc
            finally:
                self._in_flight[server] -= 1

    def _enter(self, server: str) -> None:
        self._in_flight[server] = self._in_flight.get(server, 0) + 1
        self._peak[server] = max(self._peak.get(server, 0), self._in_flight[server])
