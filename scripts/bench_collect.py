"""Time the collect step per source type: dataset (market-data over stdio), documents (XLSX + PDF), a web page
(the fetch server on a local page), a tool server (the npm filesystem server over a folder of documents).

Usage: python scripts/bench_collect.py [--runs N] [--json]

Each run collects every source concurrently, as a job does; the first run starts the servers (cold), the
others reuse their sessions (warm). Prints each source type's seconds (median of the warm runs, and cold).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.data_collection import CollectionConfig, DataCollectionAgent  # noqa: E402
from actors.mcp import DiscoveryCache, ResourceBroker  # noqa: E402
from cluster.settings import Settings  # noqa: E402
from schemas import parse_brief  # noqa: E402
from schemas.pipeline import CollectRequest, DocumentInput  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "tests" / "data" / "docs"
FILESYSTEM_JS = ROOT / "tests" / "mcp-servers" / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


async def bench(runs: int, folder: Path, base: str) -> dict[str, dict[str, float]]:
    settings = Settings(fetch_allow="127.0.0.1", mcp_servers={
        "market-data": {**Settings().resolved_mcp_servers()["market-data"]},
        "documents": {"command": "node", "args": [str(FILESYSTEM_JS), str(folder)]},
    })
    servers = settings.resolved_mcp_servers()
    cache = DiscoveryCache(servers, timeout_s=60)
    broker = ResourceBroker(servers, cache, timeout_s=60)
    config = CollectionConfig.from_servers(servers, fetch_allow=frozenset({"127.0.0.1"}),
                                           allowed_fetch_server=settings.allowed_fetch_server)
    agent = DataCollectionAgent(broker, cache, config)
    brief = parse_brief({"product": {"name": "Oat Barista", "category": "plant-based dairy alternatives"},
                         "markets": ["DE", "FR", "NL"], "audience": "coffee drinkers", "questions": ["How big?"],
                         "locale": "en_GB", "competitors": ["Alpro"], "sources": [f"{base}/page.html"]})
    documents = [DocumentInput(id="doc-00000000000000a1", name="market.xlsx", data=(DOCS / "market.xlsx").read_bytes()),
                 DocumentInput(id="doc-00000000000000a2", name="notes.pdf", data=(DOCS / "notes.pdf").read_bytes())]
    samples: dict[str, list[float]] = {}
    totals: list[float] = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            result = await agent.collect(CollectRequest(job_id="bench", brief=brief, documents=documents))
            totals.append(time.perf_counter() - started)
            per_type: dict[str, float] = {}
            for report in result.sources:
                assert report.status in ("ok", "warned"), report
                per_type[report.source_type] = max(per_type.get(report.source_type, 0.0), report.elapsed_s)
            for kind, seconds in per_type.items():
                samples.setdefault(kind, []).append(seconds)
    finally:
        await asyncio.gather(broker.close(), cache.close())
    out = {kind: {"cold_s": round(values[0], 3), "warm_median_s": round(statistics.median(values[1:] or values), 3)}
           for kind, values in sorted(samples.items())}
    out["all (concurrent)"] = {"cold_s": round(totals[0], 3), "warm_median_s": round(statistics.median(totals[1:] or totals), 3)}
    return out


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, site = Path(tmp) / "docs", Path(tmp) / "site"
        folder.mkdir()
        site.mkdir()
        for name in ("market.xlsx", "notes.md", "notes.pdf"):
            shutil.copy(DOCS / name, folder / name)
        shutil.copy(DOCS / "notes.html", site / "page.html")
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            figures = asyncio.run(bench(args.runs, folder, f"http://127.0.0.1:{server.server_address[1]}"))
        finally:
            server.shutdown()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for kind, f in figures.items():
            print(f"{kind:18} cold {f['cold_s']:.3f}s  warm median {f['warm_median_s']:.3f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
