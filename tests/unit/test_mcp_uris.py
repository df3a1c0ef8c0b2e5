"""`mcp://` URI parsing and building, and typing query values against a tool's input schema."""

from __future__ import annotations

from typing import Any

import pytest

from actors.mcp import McpUri, build_mcp_uri, coerce_arguments, parse_mcp_uri
from schemas import AgentError

pytestmark = pytest.mark.unit

SERVERS = {"market-data", "other"}


def test_tool_uri() -> None:
    uri = parse_mcp_uri("mcp://market-data/market_size?country=DE&category=dairy%20alternatives", servers=SERVERS)
    query = {"country": ["DE"], "category": ["dairy alternatives"]}
    assert uri == McpUri(server="market-data", path="market_size", query=query)
    assert (uri.kind, uri.name) == ("tool", "market_size")


def test_resource_uri_maps_to_server_scheme() -> None:
    uri = parse_mcp_uri("mcp://market-data/dataset/notice", servers=SERVERS)
    assert uri.kind == "resource"
    assert uri.resource_uri() == "market-data://dataset/notice"
    with_query = parse_mcp_uri("mcp://market-data/dataset/rows?country=DE&n=2")
    assert with_query.resource_uri() == "market-data://dataset/rows?country=DE&n=2"


def test_repeated_and_blank_query_values_are_kept_in_order() -> None:
    uri = parse_mcp_uri("mcp://other/tool?tag=a&tag=b&empty=")
    assert uri.query == {"tag": ["a", "b"], "empty": [""]}


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("https://market-data/country_facts", "not an mcp:// URI"),
        ("market-data/country_facts", "not an mcp:// URI"),
        ("", "empty MCP URI"),
        ("mcp:///country_facts", "must name a server"),
        ("mcp://user@market-data/country_facts", "must name a server"),
        ("mcp://market-data:8080/country_facts", "must name a server"),
        ("mcp://nowhere/country_facts", "unknown MCP server 'nowhere'"),
        ("mcp://market-data", "names no tool or resource"),
        ("mcp://market-data/", "names no tool or resource"),
        ("mcp://market-data/dataset/../secrets", "relative path segment"),
        ("mcp://market-data/a//b", "empty or relative"),
        ("mcp://market-data/country_facts#top", "fragment"),
        ("mcp://market-data/country facts", "whitespace"),
        ("mcp://market-data/country_facts?=DE", "without a name"),
    ],
)
def test_bad_uris_are_rejected_with_a_reason(uri: str, message: str) -> None:
    with pytest.raises(AgentError, match=message) as err:
        parse_mcp_uri(uri, servers=SERVERS)
    assert err.value.retryable is False


def test_unknown_server_lists_configured_servers() -> None:
    with pytest.raises(AgentError, match="configured: market-data, other"):
        parse_mcp_uri("mcp://nowhere/x", servers=SERVERS)


def test_any_server_is_accepted_without_a_server_list() -> None:
    assert parse_mcp_uri("mcp://anything/x").server == "anything"


def test_build_round_trips_and_encodes() -> None:
    params = {"country": "DE", "category": "oat & soy milk", "n": 3, "ok": True}
    built = build_mcp_uri("market-data", "market_size", params)
    assert built == "mcp://market-data/market_size?country=DE&category=oat%20%26%20soy%20milk&n=3&ok=true"
    assert parse_mcp_uri(built).query == {"country": ["DE"], "category": ["oat & soy milk"], "n": ["3"], "ok": ["true"]}
    assert build_mcp_uri("market-data", "/dataset/notice") == "mcp://market-data/dataset/notice"
    assert parse_mcp_uri(build_mcp_uri("s", "t", {"tag": ["a", "b"]})).query == {"tag": ["a", "b"]}


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "country": {"type": "string"},
        "year": {"type": "integer"},
        "share": {"type": "number"},
        "exact": {"type": "boolean"},
        "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        "tags": {"type": "array", "items": {"type": "integer"}},
        "filters": {"type": "object"},
        "anything": {},
    },
    "required": ["country"],
}


def test_query_values_are_typed_by_the_schema() -> None:
    query = {
        "country": ["DE"],
        "year": ["2024"],
        "share": ["12.5"],
        "exact": ["true"],
        "limit": ["null"],
        "tags": ["1", "2"],
        "filters": ['{"a": 1}'],
        "anything": ["x"],
    }
    assert coerce_arguments(query, SCHEMA) == {
        "country": "DE",
        "year": 2024,
        "share": 12.5,
        "exact": True,
        "limit": None,
        "tags": [1, 2],
        "filters": {"a": 1},
        "anything": "x",
    }
    assert coerce_arguments({"country": ["007"], "limit": ["5"], "exact": ["0"]}, SCHEMA) == {
        "country": "007",
        "limit": 5,
        "exact": False,
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "missing required parameter\\(s\\): country"),
        ({"country": ["DE"], "year": ["twenty"]}, "'year'='twenty' is not a valid integer"),
        ({"country": ["DE"], "exact": ["maybe"]}, "not a valid boolean"),
        ({"country": ["DE"], "tags": ["1", "x"]}, "'tags'='x'"),
        ({"country": ["DE", "FR"]}, "'country' given 2 times"),
        ({"country": ["DE"], "colour": ["red"]}, "unknown parameter 'colour'"),
    ],
)
def test_bad_query_values_are_rejected(query: dict[str, list[str]], message: str) -> None:
    with pytest.raises(AgentError, match=message):
        coerce_arguments(query, SCHEMA, tool="market-data/t")


def test_schema_without_properties_passes_strings_through() -> None:
    assert coerce_arguments({"x": ["1"]}, {"type": "object"}) == {"x": "1"}


def test_public_surface_is_sorted_and_importable() -> None:
    import actors.mcp as package

    assert package.__all__ == sorted(package.__all__)
    assert all(hasattr(package, name) for name in package.__all__)
