"""Benchmark the whole pipeline: `mka demo` wall time, per-step latency from the trace, jobs/s.

Jobs/s uses zero-latency stub providers, with the PDF on and off, on the embedded default
(SQLite + filesystem) and on PostgreSQL + NATS (the relay drains the outbox while jobs run).

Run: python scripts/bench_pipeline.py [--jobs 20] [--skip-demo] [--backends embedded postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import ray
import yaml

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NATS = "nats://127.0.0.1:4222"


def demo_wall_time() -> dict[str, Any]:
    """Run `mka demo --json` in a fresh directory; return wall time and the trace's step latencies."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA_", "OTEL_"))}
        env["MKA_HOME"] = str(Path(tmp) / ".mka")
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cluster.cli", "demo", "--json"], cwd=tmp, env=env,
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        summary = json.loads(done.stdout)
        from cluster.tracing import read_spans

        spans = read_spans(Path(tmp) / ".mka" / "spans.jsonl", summary["trace_id"])
        steps = {s["name"]: round(s["duration_ms"], 1) for s in spans if s["name"].startswith(("step.", "agent."))}
        return {"wall_s": round(wall, 2), "state": summary["state"], "step_ms": steps}


def _fresh_database() -> str:
    name = f"mka_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def throughput(backend: str, pdf: bool, jobs: int) -> dict[str, Any]:
    """Submit `jobs` briefs at once with zero-latency stubs; return jobs/s and latency figures."""
    from cluster.client import connect
    from cluster.relay import OutboxRelay
    from cluster.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="mka-bench-"))
    db = _fresh_database() if backend == "postgres" else None
    settings = Settings(home=home, database_url=db, nats_url=NATS if backend == "postgres" else None,
                        report_pdf=pdf, ray_namespace=f"bench-{uuid.uuid4().hex[:6]}", max_parallel_jobs=16)
    client = connect(settings)
    brief = yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text())
    client.wait(client.submit(brief))  # warm-up: actors, spaCy, fonts, MCP sessions
    stop = threading.Event()
    published = [0]

    def relay() -> None:
        async def go() -> None:
            r = OutboxRelay(client.store, nats_url=NATS)
            await r.connect()
            while not stop.is_set():
                published[0] += await r.relay_once() or 0
                await asyncio.sleep(0.05)
            published[0] += await r.drain()
            await r.close()

        asyncio.run(go())

    relay_thread = threading.Thread(target=relay) if settings.nats_url else None
    if relay_thread:
        relay_thread.start()
    start = time.perf_counter()
    ids = [client.submit(brief) for _ in range(jobs)]
    finals = [client.wait(i, poll_s=0.05) for i in ids]
    elapsed = time.perf_counter() - start
    stop.set()
    if relay_thread:
        relay_thread.join()
    latencies = [(f.updated_at - f.created_at).total_seconds() for f in finals]
    result = {
        "backend": backend, "pdf": pdf, "jobs": jobs,
        "completed": sum(f.state.value == "completed" for f in finals),
        "jobs_per_s": round(jobs / elapsed, 2),
        "job_latency_p50_s": round(statistics.median(latencies), 2),
        "job_latency_max_s": round(max(latencies), 2),
        "events_published": published[0] if relay_thread else None,
    }
    ray.shutdown()
    if db:
        _drop_database(db)
    return result


def main() -> None:
    """Parse arguments, run the measurements, print them as a table and as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--backends", nargs="+", default=["embedded", "postgres"], choices=["embedded", "postgres"])
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if not args.skip_demo:
        report["demo"] = demo_wall_time()
        print(f"mka demo: {report['demo']['wall_s']} s wall ({report['demo']['state']})")
        for name, ms in report["demo"]["step_ms"].items():
            print(f"  {name:<22} {ms:>9.1f} ms")
    report["throughput"] = []
    print(f"{'backend':<10} {'pdf':<5} {'jobs':>5} {'done':>5} {'jobs/s':>7} {'p50 s':>7} {'max s':>7} {'events':>7}")
    for backend in args.backends:
        for pdf in (True, False):
            row = throughput(backend, pdf, args.jobs)
            report["throughput"].append(row)
            print(f"{backend:<10} {str(pdf):<5} {row['jobs']:>5} {row['completed']:>5} {row['jobs_per_s']:>7} "
                  f"{row['job_latency_p50_s']:>7} {row['job_latency_max_s']:>7} {str(row['events_published']):>7}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
