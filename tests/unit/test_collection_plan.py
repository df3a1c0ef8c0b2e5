"""Data collection on a scripted broker and catalog: what the planner calls from tool schemas, generic evidence,
web and document sources, and failures that stay with their own source."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actors.collection.planner import Discovered, discover, is_safe, param_role, plan_paths, plan_tools
from actors.collection.results import evidence_id, flatten_numbers
from actors.collection.web import SourceRefused, check_url, parse_allow
from actors.data_collection import CollectionConfig, DataCollectionAgent, dedupe
from actors.mcp import BrokerResult, parse_mcp_uri
from actors.mcp._transport import Blob
from schemas import AgentError, Brief, Evidence, McpToolDescriptor, StepTimeout
from schemas.mcp import McpResourceDescriptor
from schemas.pipeline import CollectRequest, DocumentInput
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
COUNTRY = {"type": "string", "description": "ISO 3166-1 alpha-2 country code, e.g. 'DE'."}
CATEGORY = {"type": "string", "description": "Product category."}
READ_ONLY = {"readOnlyHint": True}


def tool(name: str, properties: dict[str, Any] | None = None, required: list[str] | None = None,
         annotations: dict[str, Any] | None = None, description: str = "") -> McpToolDescriptor:
    schema: dict[str, Any] = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = required
    return McpToolDescriptor(name=name, description=description, inputSchema=schema, annotations=annotations)


MARKET_TOOLS = [
    tool("country_facts", {"country": COUNTRY}, ["country"], READ_ONLY),
    tool("market_size", {"country": COUNTRY, "category": CATEGORY}, ["country"], READ_ONLY),
    tool("brand", {"name": {"type": "string"}, "countries": {"type": "array", "items": {"type": "string"}}},
         ["name"], READ_ONLY, description="Brand lookup"),
    tool("delete_market", {"country": COUNTRY}, ["country"]),  # a write: never called
    tool("update_cache", {"country": COUNTRY}, ["country"], {"readOnlyHint": False}),
    tool("translate", {"country": COUNTRY, "text": {"type": "string"}}, ["country", "text"], READ_ONLY),
]
FS_TOOLS = [
    tool("list_allowed_directories", {}, None, READ_ONLY),
    tool("list_directory", {"path": {"type": "string"}}, ["path"], READ_ONLY),
    tool("directory_tree", {"path": {"type": "string"}}, ["path"], READ_ONLY),
    tool("get_file_info", {"path": {"type": "string"}}, ["path"], READ_ONLY),
    tool("read_text_file", {"path": {"type": "string"}, "head": {"type": "number"}}, ["path"], READ_ONLY),
    tool("read_media_file", {"path": {"type": "string"}}, ["path"], READ_ONLY),
    tool("read_file", {"path": {"type": "string"}}, ["path"], READ_ONLY, "DEPRECATED: use read_text_file"),
    tool("write_file", {"path": {"type": "string"}, "content": {"type": "string"}}, ["path", "content"],
         {"readOnlyHint": False, "destructiveHint": True}),
]


def test_planner_binds_markets_category_and_competitors_from_schemas(make_brief: Callable[..., Brief]) -> None:
    brief = make_brief(markets=["FR", "DE"], product={"name": "X", "category": "oat milk"}, competitors=["Alpro"])
    calls = plan_tools("md", MARKET_TOOLS, brief)
    assert [c.uri for c in calls] == [
        "mcp://md/country_facts?country=FR", "mcp://md/market_size?country=FR&category=oat%20milk",
        "mcp://md/country_facts?country=DE", "mcp://md/market_size?country=DE&category=oat%20milk",
        "mcp://md/brand?name=Alpro&countries=FR&countries=DE",  # about no single market: after the markets
    ]  # fmt: skip
    assert not any(c.tool in ("delete_market", "update_cache", "translate") for c in calls)


def test_parameter_roles_and_safety() -> None:
    brand_tool = tool("company_lookup", description="Look up a company")
    assert param_role("name", {}, brand_tool) == "brand"
    assert param_role("name", {}, tool("read_text_file")) is None
    assert param_role("markets", {"type": "array"}, brand_tool) == "countries"
    assert param_role("code", {"description": "ISO 3166-1 alpha-2 code"}, brand_tool) == "country"
    assert param_role("paths", {"type": "array"}, brand_tool) == "paths"
    assert not is_safe(tool("send_email")) and not is_safe(tool("x", annotations={"destructiveHint": True}))
    assert is_safe(tool("publish_stats", annotations=READ_ONLY))
    # Without a read-only hint (MCP's default: may write) only a read verb first makes a tool safe.
    for name in ("sendMessage", "merge_pull_request", "add_issue_comment", "git_commit", "files.delete",
                 "trigger_webhook", "generate_image", "sql", "reset_database", "shutdown", "market_size"):
        assert not is_safe(tool(name)), name
    for name in ("get_market_size", "listFiles", "search_news", "files.get", "fetchReport"):
        assert is_safe(tool(name)), name
    assert not is_safe(tool("get_x", annotations={"readOnlyHint": True, "destructiveHint": True}))


def test_filesystem_like_servers_are_walked_then_read(make_brief: Callable[..., Brief]) -> None:
    first = plan_tools("fs", FS_TOOLS, make_brief())
    assert [c.uri for c in first] == ["mcp://fs/list_allowed_directories"] and first[0].purpose == "navigate"
    found = Discovered()
    assert discover(first[0], "Allowed directories:\n/srv/docs", found)
    listing = plan_paths("fs", FS_TOOLS, found)
    assert [c.uri for c in listing] == ["mcp://fs/list_directory?path=%2Fsrv%2Fdocs"]
    assert discover(listing[0], "[FILE] market.xlsx\n[FILE] notes.md\n[FILE] photo.png\n[DIR] archive", found)
    reads = plan_paths("fs", FS_TOOLS, found)
    assert [c.uri for c in reads] == [
        "mcp://fs/list_directory?path=%2Fsrv%2Fdocs%2Farchive",
        "mcp://fs/read_media_file?path=%2Fsrv%2Fdocs%2Fmarket.xlsx",  # a binary document: the byte reader
        "mcp://fs/read_text_file?path=%2Fsrv%2Fdocs%2Fnotes.md",  # text: the text reader (never the deprecated one)
    ]  # photo.png is no document we read
    assert not discover(reads[2], "just text, no listing", found)


def test_flatten_names_figures_as_the_merge_reads_them() -> None:
    content = {"year": 2024, "available": True, "market": {"growth_pct": 6.4},
               "competitors": [{"name": "Oatfield", "share_pct": 27.0}, {"name": "Soyana", "share_pct": 19.5}],
               "markets": [{"brand": "Alpro", "country": "DE", "price_eur": 2.29}], "rows": [1, 2]}
    assert flatten_numbers(content) == {
        "year": 2024.0, "market_growth_pct": 6.4, "Oatfield share_pct": 27.0, "Soyana share_pct": 19.5,
        "Alpro de_price_eur": 2.29, "rows_1": 1.0, "rows_2": 2.0,
    }  # fmt: skip


class Scripted:
    """A broker and catalog in one: canned tools, resources and answers; chosen URIs fail or hang."""

    def __init__(self, tools: dict[str, list[McpToolDescriptor]], answers: Callable[[str], BrokerResult],
                 failures: dict[str, BaseException] | None = None, hang: set[str] | None = None) -> None:
        self._tools, self._answers = tools, answers
        self.failures, self.hang = failures or {}, hang or set()
        self.uris: list[str] = []

    async def tools(self, server: str) -> list[McpToolDescriptor]:
        if server in self.failures:
            raise self.failures[server]
        return self._tools[server]

    async def resources(self, server: str) -> list[McpResourceDescriptor]:
        return [McpResourceDescriptor(uri=f"{server}://dataset/notice", annotations={"audience": ["assistant"]}),
                McpResourceDescriptor(uri=f"{server}://dataset/internal"),  # not meant for the assistant
                McpResourceDescriptor(uri=f"{server}://notice", annotations={"priority": 1.0})]  # would name a tool

    async def resolve(self, uri: str) -> BrokerResult:
        self.uris.append(uri)
        if uri in self.hang:
            await asyncio.sleep(3600)
        if uri in self.failures:
            raise self.failures[uri]
        return self._answers(uri)


def market_answers(uri: str) -> BrokerResult:
    target = parse_mcp_uri(uri)
    if target.kind == "resource":
        return BrokerResult(uri=uri, server=target.server, kind="resource", text="Sample data, not real.",
                            meta={"io.mka/evidence-id": "ev-notice"})
    country = target.query.get("country", ["??"])[0]
    content = {"country": country, "year": 2024, "value_eur_m": 100.0 if country == "DE" else 50.0}
    return BrokerResult(uri=uri, server=target.server, kind="tool", content=content,
                        text=f"{target.name} for {country}: EUR {content['value_eur_m']} million")


def agent(scripted: Scripted, **config: Any) -> DataCollectionAgent:
    servers = config.pop("servers", {"md": "dataset"})
    return DataCollectionAgent(scripted, scripted, CollectionConfig(servers=servers, **config), clock=FakeClock(),
                               resolve=lambda host: ["93.184.216.34"])


def test_generic_evidence_with_server_ids_and_derived_ids(make_brief: Callable[..., Brief]) -> None:
    scripted = Scripted({"md": MARKET_TOOLS[:2]}, market_answers)
    result = asyncio.run(agent(scripted).collect(CollectRequest(job_id="j", brief=make_brief(markets=["DE"]))))
    ids = [e.id for e in result.evidence]
    assert ids[0] == "ev-notice"  # the server's own id (`_meta`)
    assert ids[1:] == [evidence_id(c, None) for c in plan_tools("md", MARKET_TOOLS[:2], make_brief(markets=["DE"]))]
    facts = result.evidence[1]
    assert facts.text == "country_facts for DE: EUR 100.0 million" and facts.data == {"year": 2024.0, "value_eur_m": 100.0}
    assert {e.source_type for e in result.evidence} == {"dataset"} and all(e.retrieved_at for e in result.evidence)
    assert [(s.source, s.status, s.items, s.calls) for s in result.sources] == [("mcp://md", "ok", 3, 3)]


def test_a_failing_server_fails_alone(make_brief: Callable[..., Brief]) -> None:
    scripted = Scripted({"md": MARKET_TOOLS[:2], "crm": MARKET_TOOLS[:1]}, market_answers,
                        failures={"crm": AgentError("MCP server 'crm' is not reachable")})
    result = asyncio.run(agent(scripted, servers={"md": "dataset", "crm": "tool"}).collect(
        CollectRequest(job_id="j", brief=make_brief(markets=["DE"]))))
    by_source = {s.source: s for s in result.sources}
    assert by_source["mcp://crm"].status == "failed" and "not reachable" in (by_source["mcp://crm"].error or "")
    assert by_source["mcp://md"].status == "ok" and len(result.evidence) == 3


def test_some_calls_failing_is_a_warning_and_a_hang_is_bounded(make_brief: Callable[..., Brief]) -> None:
    brief = make_brief(markets=["DE", "FR"])
    uris = [c.uri for c in plan_tools("md", MARKET_TOOLS[:2], brief)]
    scripted = Scripted({"md": MARKET_TOOLS[:2]}, market_answers, failures={uris[0]: StepTimeout("timed out")})
    result = asyncio.run(agent(scripted).collect(CollectRequest(job_id="j", brief=brief)))
    report = result.sources[0]
    assert report.status == "warned" and report.items == 4 and any("timed out" in w for w in report.warnings)


def test_documents_are_converted_and_a_bad_one_fails_alone(make_brief: Callable[..., Brief]) -> None:
    docs = [DocumentInput(id="doc-00000000000000aa", name="market.xlsx", data=(DOCS / "market.xlsx").read_bytes()),
            DocumentInput(id="doc-00000000000000bb", name="Secret plan Jonas Becker.pdf",
                          data=(DOCS / "encrypted.pdf").read_bytes(), required=True),
            DocumentInput(id="doc-00000000000000cc", name="notes-ja.md", data=(DOCS / "notes-ja.md").read_bytes()),
            DocumentInput(id="doc-00000000000000dd", name="blank.md", data=b"  \n\n ", required=True)]
    scripted = Scripted({}, market_answers)
    result = asyncio.run(agent(scripted, servers={}).collect(
        CollectRequest(job_id="j", brief=make_brief(), documents=docs)))
    reports = {s.label: s for s in result.sources}
    xlsx, pdf, ja = reports["doc-00000000000000aa"], reports["doc-00000000000000bb"], reports["doc-00000000000000cc"]
    assert xlsx.status == "ok" and xlsx.items == 9
    assert pdf.status == "failed" and pdf.required and pdf.error and pdf.error.startswith("encrypted:")
    assert "Jonas" not in pdf.error  # a file name can be personal: messages name the document by id
    assert ja.status == "warned" and "Japanese" in ja.warnings[0] and ja.items == 1
    blank = reports["doc-00000000000000dd"]  # read, but nothing in it: a required source that failed
    assert blank.status == "failed" and blank.error and "no evidence" in blank.error and "no text found" in blank.error
    row = next(e for e in result.evidence if e.id == "doc-00000000000000aa-t1r1")
    assert row.source == "doc://doc-00000000000000aa#t1r1" and row.source_type == "document"
    assert row.data == {"year": 2023.0, "market_value_eur_m": 1180.0, "growth_pct": 6.8, "oat_share_pct": 52.0}


def test_pages_go_through_the_fetch_server_behind_the_address_policy(make_brief: Callable[..., Brief]) -> None:
    def answers(uri: str) -> BrokerResult:
        page = "Contents of https://example.org/oat:\n# Oat report\n\nOat drinks held 52% in Germany in 2023.\n"
        return BrokerResult(uri=uri, server="fetch", kind="tool", text=page)

    brief = make_brief(sources=["https://example.org/oat", {"url": "http://169.254.169.254/latest", "required": True}])
    scripted = Scripted({}, answers)
    result = asyncio.run(agent(scripted, servers={}, fetch_server="fetch").collect(
        CollectRequest(job_id="j", brief=brief)))
    page, metadata = result.sources
    assert page.status == "ok" and page.source_type == "web" and page.items == 1
    assert metadata.status == "failed" and metadata.required and "non-public address" in (metadata.error or "")
    assert scripted.uris == ["mcp://fetch/fetch?url=https%3A%2F%2Fexample.org%2Foat&max_length=50000"]
    item = result.evidence[0]
    assert item.source == "https://example.org/oat#c1" and item.text == "Oat report: Oat drinks held 52% in Germany in 2023."


def test_check_url_refuses_private_addresses_unless_allowed() -> None:
    public = lambda host: ["93.184.216.34"]  # noqa: E731
    check_url("https://example.org/a", frozenset(), resolve=public)
    for url in ("http://127.0.0.1:8080/", "http://[::1]/", "http://10.1.2.3/", "http://169.254.169.254/",
                "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"):
        with pytest.raises(SourceRefused):
            check_url(url, frozenset(), resolve=public)
    with pytest.raises(SourceRefused, match="non-public"):  # a name that resolves inside
        check_url("http://intranet.example/", frozenset(), resolve=lambda host: ["192.168.1.5"])
    check_url("http://127.0.0.1:8080/", parse_allow("127.0.0.1, Intranet.example"), resolve=public)
    check_url("http://intranet.example/", parse_allow("127.0.0.1,intranet.example"), resolve=lambda h: ["10.0.0.1"])
    with pytest.raises(SourceRefused, match="http"):
        check_url("file:///etc/passwd", frozenset(), resolve=public)


def test_embedded_files_are_converted_like_uploads(make_brief: Callable[..., Brief]) -> None:
    data = (DOCS / "market.csv").read_bytes()

    def answers(uri: str) -> BrokerResult:
        target = parse_mcp_uri(uri)
        if target.kind == "resource":
            return BrokerResult(uri=uri, server="fs", kind="resource", text="A notice.")
        if target.name == "list_allowed_directories":
            return BrokerResult(uri=uri, server="fs", kind="tool", text="Allowed directories:\n/docs")
        if target.name == "list_directory":
            return BrokerResult(uri=uri, server="fs", kind="tool", text="[FILE] market.csv")
        return BrokerResult(uri=uri, server="fs", kind="tool",
                            blobs=[Blob(uri="file:///docs/market.csv", mime_type="text/csv", data=data)])

    tools = [t for t in FS_TOOLS if t.name != "read_text_file"]
    result = asyncio.run(agent(Scripted({"fs": tools}, answers), servers={"fs": "tool"}).collect(
        CollectRequest(job_id="j", brief=make_brief())))
    read = [e for e in result.evidence if "read_media_file" in e.source]
    assert [e.source for e in read] == [f"mcp://fs/read_media_file?path=%2Fdocs%2Fmarket.csv#t1r{n}" for n in (1, 2, 3)]
    assert {e.source_type for e in read} == {"document"} and read[0].data and read[0].data["oat_share_pct"] == 52.0
    assert not any("list_" in e.source for e in result.evidence)  # listings only navigate


def test_dedupe_keeps_the_first_and_counts_the_rest() -> None:
    a = Evidence(id="a", source="doc://doc-0000000000000001#c1", text="Oat share 52%")
    b = Evidence(id="b", source="https://x.org/p#c1", text="Oat  share 52%")
    c = Evidence(id="a", source="https://x.org/p#c2", text="Other")
    items, dropped = dedupe([[a], [b, c]])
    assert [e.id for e in items] == ["a", "a-2"] and dropped == [0, 1]


def test_allow_listed_hosts_go_to_the_permissive_fetch_server_only(make_brief: Callable[..., Brief]) -> None:
    def answers(uri: str) -> BrokerResult:
        return BrokerResult(uri=uri, server=parse_mcp_uri(uri).server, kind="tool", text="# Page\n\nOat 52%.")

    scripted = Scripted({}, answers)
    brief = make_brief(sources=["https://example.org/a", "http://intranet.local/b"])
    result = asyncio.run(agent(scripted, servers={}, fetch_allow=frozenset({"intranet.local"}),
                               allowed_fetch_server="fetch-allowed").collect(CollectRequest(job_id="j", brief=brief)))
    assert [s.status for s in result.sources] == ["ok", "ok"]
    assert [parse_mcp_uri(u).server for u in scripted.uris] == ["fetch", "fetch-allowed"]
    assert "fetch-allowed" not in CollectionConfig.from_servers(
        {"fetch": {}, "fetch-allowed": {}, "crm": {}}, allowed_fetch_server="fetch-allowed").servers


def test_fetch_server_complaints_fail_and_csv_pages_become_rows() -> None:
    from datetime import datetime, timezone

    from actors.collection.web import page_evidence

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def fetched(text: str) -> BrokerResult:
        return BrokerResult(uri="mcp://fetch/fetch", server="fetch", kind="tool", text=text)

    with pytest.raises(AgentError, match="could not read it: Page failed to be simplified from HTML"):
        page_evidence("https://x.org/a", "web-1", fetched(
            "Contents of https://x.org/a:\n<error>Page failed to be simplified from HTML</error>"), retrieved_at=when)
    csv = ("Contents of https://x.org/m.csv:\nContent type text/csv cannot be simplified to markdown, but here is the "
           "raw content:\nmarket,year,oat_share_pct\nDE,2023,52\n")
    items, _ = page_evidence("https://x.org/m.csv", "web-2", fetched(csv), retrieved_at=when)
    assert [(i.source, i.data) for i in items] == [("https://x.org/m.csv#t1r1", {"year": 2023.0, "oat_share_pct": 52.0})]
    assert "Content type" not in items[0].text


def test_a_call_cap_trims_every_market_instead_of_dropping_the_last(make_brief: Callable[..., Brief]) -> None:
    from actors.collection.planner import fair_share

    brief = make_brief(markets=["DE", "FR", "NL"], competitors=["A", "B", "C"])
    search = tool("search_brands", {"country": COUNTRY, "company": {"type": "string"}}, ["country", "company"], READ_ONLY)
    calls = plan_tools("s", [search, MARKET_TOOLS[0]], brief)
    assert len(calls) == 12
    kept = fair_share(calls, 6)
    assert sorted({c.market for c in kept}) == ["DE", "FR", "NL"] and len(kept) == 6
    assert [c.uri for c in kept] == [c.uri for c in calls if c in kept]  # the plan's order
