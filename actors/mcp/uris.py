"""`mcp://<server>/<path>?<query>` URIs: parsing, building and typing query values against a tool's schema.

A one-segment path names a tool (`mcp://market-data/market_size?country=DE`); a longer path names a
resource, read from the server as `<server>://<path>` (`mcp://market-data/dataset/notice`).
Everything here is pure; bad input raises `AgentError` (not retryable) with a message saying why.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from schemas import AgentError

__all__ = ["McpUri", "build_mcp_uri", "coerce_arguments", "parse_mcp_uri"]

QueryValue = str | int | float | bool | list[str] | list[int] | list[float]


class McpUri(BaseModel):
    """A parsed `mcp://` URI.

    Example:
        >>> uri = parse_mcp_uri("mcp://market-data/market_size?country=DE&category=coffee")
        >>> (uri.server, uri.kind, uri.name, uri.query)
        ('market-data', 'tool', 'market_size', {'country': ['DE'], 'category': ['coffee']})
    """

    model_config = ConfigDict(frozen=True)

    server: str
    path: str = Field(description="Decoded path without the leading slash.")
    query: dict[str, list[str]] = Field(default_factory=dict, description="Query values by name, in order.")

    @property
    def kind(self) -> Literal["tool", "resource"]:
        """`tool` for a one-segment path, `resource` otherwise."""
        return "resource" if "/" in self.path else "tool"

    @property
    def name(self) -> str:
        """The tool name (the path of a tool URI)."""
        return self.path

    def resource_uri(self) -> str:
        """The server-side URI a resource path maps to: `<server>://<path>[?query]`."""
        base = f"{self.server}://{quote(self.path, safe='/')}"
        pairs = [(key, value) for key, values in self.query.items() for value in values]
        return f"{base}?{urlencode(pairs, quote_via=quote)}" if pairs else base


def parse_mcp_uri(uri: str, *, servers: Collection[str] | None = None) -> McpUri:
    """Parse an `mcp://` URI; with `servers`, the server must be one of them."""
    if not isinstance(uri, str) or not uri.strip():
        raise AgentError("empty MCP URI", retryable=False)
    if any(ch.isspace() for ch in uri):
        raise AgentError(f"MCP URI {uri!r} contains whitespace; percent-encode it", retryable=False)
    parts = urlsplit(uri)
    if parts.scheme.lower() != "mcp":
        raise AgentError(f"not an mcp:// URI: {uri!r}", retryable=False)
    server = parts.netloc
    if not server or "@" in server or ":" in server:
        raise AgentError(f"MCP URI {uri!r} must name a server as mcp://<server>/...", retryable=False)
    if servers is not None and server not in servers:
        known = ", ".join(sorted(servers)) or "none"
        raise AgentError(f"unknown MCP server {server!r} in {uri!r}; configured: {known}", retryable=False)
    if parts.fragment:
        raise AgentError(f"MCP URI {uri!r} must not carry a fragment", retryable=False)
    path = unquote(parts.path).strip("/")
    if not path:
        raise AgentError(f"MCP URI {uri!r} names no tool or resource", retryable=False)
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise AgentError(f"MCP URI {uri!r} has an empty or relative path segment", retryable=False)
    query: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if not key:
            raise AgentError(f"MCP URI {uri!r} has a query value without a name", retryable=False)
        query.setdefault(key, []).append(value)
    return McpUri(server=server, path=path, query=query)


def build_mcp_uri(server: str, path: str, params: Mapping[str, QueryValue] | None = None) -> str:
    """Build an `mcp://` URI (parameters in the given order, list values repeated)."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, _to_text(item)))
    base = f"mcp://{server}/{quote(path.strip('/'), safe='/')}"
    return f"{base}?{urlencode(pairs, quote_via=quote)}" if pairs else base


def coerce_arguments(
    query: Mapping[str, list[str]], input_schema: Mapping[str, Any], *, tool: str = "tool"
) -> dict[str, Any]:
    """Turn query strings into tool arguments typed by the tool's JSON input schema."""
    properties: Mapping[str, Any] = input_schema.get("properties") or {}
    missing = [name for name in input_schema.get("required", []) if name not in query]
    if missing:
        raise AgentError(f"{tool}: missing required parameter(s): {', '.join(missing)}", retryable=False)
    arguments: dict[str, Any] = {}
    for key, values in query.items():
        if properties and key not in properties:
            raise AgentError(f"{tool}: unknown parameter {key!r}; expected {', '.join(properties)}", retryable=False)
        schema = properties.get(key, {})
        types = _types(schema)
        if "array" in types:
            item_types = _types(schema.get("items") or {})
            arguments[key] = [_coerce(tool, key, value, item_types) for value in values]
        elif len(values) > 1:
            raise AgentError(f"{tool}: parameter {key!r} given {len(values)} times", retryable=False)
        else:
            arguments[key] = _coerce(tool, key, values[0], types)
    return arguments


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    found: list[str] = []
    for option in list(schema.get("anyOf") or []) + list(schema.get("oneOf") or []):
        found += _types(option)
    return found


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _coerce(tool: str, key: str, value: str, types: list[str]) -> Any:
    if not types or "string" in types:
        return value
    for kind in ("integer", "number", "boolean", "null", "object"):
        if kind not in types:
            continue
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
            if kind == "boolean" and value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            if kind == "null" and value in ("", "null"):
                return None
            if kind == "object":
                return json.loads(value)
        except ValueError:
            continue
    raise AgentError(f"{tool}: parameter {key!r}={value!r} is not a valid {' or '.join(types)}", retryable=False)


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
