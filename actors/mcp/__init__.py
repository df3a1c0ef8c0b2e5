"""MCP access: the Discovery Cache, the Resource Broker, `mcp://` URIs and Ray handle adapters.

The bundled offline server lives in `actors.mcp.market_data_server` (run it as a module).
"""

from __future__ import annotations

from actors.mcp._transport import McpTransport, ResourceOutput, StdioTransport, ToolOutput, UnknownTool
from actors.mcp.broker import BrokerResult, Catalog, ResourceBroker
from actors.mcp.discovery import DiscoveryCache
from actors.mcp.ray_adapters import BrokerHandle, CatalogHandle
from actors.mcp.uris import McpUri, build_mcp_uri, coerce_arguments, parse_mcp_uri

__all__ = [
    "BrokerHandle",
    "BrokerResult",
    "Catalog",
    "CatalogHandle",
    "DiscoveryCache",
    "McpTransport",
    "McpUri",
    "ResourceBroker",
    "ResourceOutput",
    "StdioTransport",
    "ToolOutput",
    "UnknownTool",
    "build_mcp_uri",
    "coerce_arguments",
    "parse_mcp_uri",
]
