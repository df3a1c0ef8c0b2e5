"""Sources that crash, hang or answer garbage fail their own calls only: the fetch server killed mid-call,
the npm filesystem server serving malformed files, and an MCP server whose tools misbehave in every way."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import pytest

from actors.data_collection import CollectionConfig, DataCollectionAgent
from actors.mcp import DiscoveryCache, ResourceBroker
from cluster.settings import Settings
from schemas import Brief
from schemas.pipeline import CollectRequest, CollectResult

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "tests" / "data" / "docs"
NPM_DIR = ROOT / "tests" / "mcp-servers"
FILESYSTEM_JS = NPM_DIR / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"
MARKET_DATA = {"market-data": Settings().resolved_mcp_servers()["market-data"]}

# An MCP server whose tools crash the process, hang, or answer in shapes nobody asked for.
BAD_SERVER = """
import asyncio, os
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations

server = MCPServer("bad", log_level="WARNING")
ro = ToolAnnotations(read_only_hint=True)

if os.environ.get("WITH_CRASH"):
    @server.tool(annotations=ro)
    def crash(country: str) -> str:
        os._exit(3)

@server.tool(annotations=ro)
async def hang(country: str) -> str:
    await asyncio.sleep(3600)
    return "never"

@server.tool(annotations=ro)
def junk(country: str) -> str:
    return "\\x00\\x01{not json" * 3

@server.tool(annotations=ro)
def empty(country: str) -> str:
    return ""

@server.tool(annotations=ro)
def fine(country: str) -> dict:
    return {"country": country, "growth_pct": 4.2}

server.run()
"""


def collect(servers: dict[str, dict[str, Any]], brief: Brief, *, timeout_s: float = 20, **config: Any) -> CollectResult:
    async def go() -> CollectResult:
        cache = DiscoveryCache(servers, ttl_s=300, timeout_s=30)
        broker = ResourceBroker(servers, cache, timeout_s=timeout_s)
        agent = DataCollectionAgent(broker, cache, CollectionConfig.from_servers(servers, **config))
        try:
            return await agent.collect(CollectRequest(job_id="job-chaos", brief=brief))
        finally:
            await asyncio.gather(broker.close(), cache.close())

    return asyncio.run(go())


def _fetch_servers() -> list[psutil.Process]:
    me = psutil.Process(os.getpid())
    return [p for p in me.children(recursive=True) if "mcp_server_fetch" in " ".join(p.cmdline())]


class _KillingPages(SimpleHTTPRequestHandler):
    """Serves pages; a request for /doomed.html kills every fetch server before it can answer."""

    kills: list[int] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path.startswith("/doomed"):
            for process in _fetch_servers():
                self.kills.append(process.pid)
                process.send_signal(signal.SIGKILL)
            return
        super().do_GET()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def pages(root: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_KillingPages, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_fetch_server_killed_mid_call_fails_only_that_page(tmp_path: Path, make_brief: Callable[..., Brief]) -> None:
    (tmp_path / "page.html").write_text("<h1>Oat</h1><p>Oat drinks hold 52% in Germany.</p>", encoding="utf-8")
    fetch = Settings(fetch_allow="127.0.0.1", mcp_servers={"x": {}}).resolved_mcp_servers()["fetch-allowed"]
    loopback = {"fetch_allow": frozenset({"127.0.0.1"}), "allowed_fetch_server": "fetch"}
    with pages(tmp_path) as base:
        brief = make_brief(markets=["DE"], competitors=[], sources=[{"url": f"{base}/doomed.html", "required": True}])
        result = collect({**MARKET_DATA, "fetch": fetch}, brief, **loopback)
        after = collect({"fetch": fetch}, make_brief(sources=[f"{base}/page.html"]), **loopback)
    reports = {s.source_type: s for s in result.sources}
    assert _KillingPages.kills, "the fetch server was never killed"
    assert reports["web"].status == "failed" and reports["web"].required
    assert reports["web"].error and "fetch" in reports["web"].error
    assert reports["dataset"].status == "ok" and reports["dataset"].items == 4  # the other source went on
    assert after.sources[0].status == "ok" and "52%" in after.evidence[0].text  # a new fetch server next time


def test_filesystem_server_with_malformed_files(tmp_path: Path, make_brief: Callable[..., Brief]) -> None:
    if not FILESYSTEM_JS.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(NPM_DIR)], check=True, timeout=300)
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(DOCS / "notes.md", folder / "notes.md")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (folder / "fake.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    shutil.copy(DOCS / "bomb.xlsx", folder / "bomb.xlsx")
    (folder / "binary.csv").write_bytes(b"a,b\n\x00\x01\x02")
    servers = {"documents": {"command": "node", "args": [str(FILESYSTEM_JS), str(folder)]}}
    result = collect(servers, make_brief())
    (report,) = result.sources
    assert report.status == "warned" and report.items >= 1
    problems = " ".join(report.warnings)
    for name in ("broken.xlsx", "fake.pdf", "bomb.xlsx", "binary.csv"):
        assert name in problems, name
    assert "zip bomb" in problems
    assert [e for e in result.evidence if "notes.md" in e.source and "wholesalers" in e.text]


def test_a_server_that_crashes_hangs_and_answers_junk(tmp_path: Path, make_brief: Callable[..., Brief]) -> None:
    script = tmp_path / "bad_server.py"
    script.write_text(BAD_SERVER, encoding="utf-8")
    servers = {**MARKET_DATA, "junky": {"command": sys.executable, "args": [str(script)]},
               "crashy": {"command": sys.executable, "args": [str(script)], "env": {"WITH_CRASH": "1"}}}
    result = collect(servers, make_brief(markets=["DE"], competitors=[]), timeout_s=3)
    reports = {s.label: s for s in result.sources}
    assert reports["market-data"].status == "ok" and reports["market-data"].items == 4
    junky = reports["junky"]
    assert junky.status == "warned", junky  # hang and empty fail their calls; fine and junk still give evidence
    problems = " ".join(junky.warnings)
    assert "hang" in problems and "timed out" in problems and "empty" in problems and "/junk?" not in problems
    texts = {e.source.split("?")[0]: e for e in result.evidence if e.source.startswith("mcp://junky/")}
    assert texts["mcp://junky/fine"].data == {"growth_pct": 4.2}
    assert "not json" in texts["mcp://junky/junk"].text and texts["mcp://junky/junk"].data is None
    # A tool that kills its server takes that server's session down (its other calls may go with it), nothing else.
    crashy = reports["crashy"]
    assert crashy.status in ("warned", "failed") and "crash" in (crashy.error or " ".join(crashy.warnings))
