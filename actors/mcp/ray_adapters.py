"""Adapters that let the plain MCP classes talk to each other through Ray actor handles.

Example (at bootstrap):
    >>> cache = ray.remote(DiscoveryCache).options(name="discovery", namespace="mka").remote(servers)  # doctest: +SKIP
    >>> broker = ray.remote(ResourceBroker).remote(servers, CatalogHandle(cache))  # doctest: +SKIP
    >>> agent = ray.remote(DataCollectionAgent).remote(BrokerHandle(broker))  # doctest: +SKIP

Errors raised inside the actor come back as the original `MkaError` (Ray's wrapper is removed);
a dead actor or any other failure becomes an `AdapterError`.
"""

from __future__ import annotations

from typing import Any

from actors.mcp.broker import BrokerResult
from schemas import AdapterError, McpToolDescriptor, MkaError
from schemas.mcp import McpResourceDescriptor

__all__ = ["BrokerHandle", "CatalogHandle"]


async def _call(handle: Any, method: str, *args: Any) -> Any:
    try:
        return await getattr(handle, method).remote(*args)
    except Exception as exc:  # boundary: unwrap Ray's errors into our tree
        cause = getattr(exc, "cause", None)
        if isinstance(cause, MkaError):
            raise cause from exc
        if isinstance(exc, MkaError):
            raise
        raise AdapterError(f"actor call {method} failed: {type(exc).__name__}: {exc}") from exc


class CatalogHandle:
    """A `DiscoveryCache` actor seen through the cache's async interface."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def tools(self, server: str) -> list[McpToolDescriptor]:
        """The server's tools (cached by the actor)."""
        tools: list[McpToolDescriptor] = await _call(self._handle, "tools", server)
        return tools

    async def refresh(self, server: str) -> list[McpToolDescriptor]:
        """The server's tools, fetched now."""
        tools: list[McpToolDescriptor] = await _call(self._handle, "refresh", server)
        return tools

    async def resources(self, server: str) -> list[McpResourceDescriptor]:
        """The server's resources (cached by the actor)."""
        found: list[McpResourceDescriptor] = await _call(self._handle, "resources", server)
        return found

    async def servers(self) -> list[str]:
        """Configured server names."""
        names: list[str] = await _call(self._handle, "servers")
        return names

    async def invalidate(self, server: str) -> None:
        """Forget the server's cached tools."""
        await _call(self._handle, "invalidate", server)


class BrokerHandle:
    """A `ResourceBroker` actor seen through the broker's async interface."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    async def resolve(self, uri: str) -> BrokerResult:
        """Resolve an `mcp://` URI through the actor."""
        result: BrokerResult = await _call(self._handle, "resolve", uri)
        return result
