"""Benchmark the whole pipeline: `mka demo` wall time, per-step latency from the trace, jobs/s, and what each
localized report adds to a job.

Jobs/s uses zero-latency stub providers, with the PDF on and off, on the embedded default
(SQLite + filesystem) and on PostgreSQL + NATS (the relay drains the outbox while jobs run).
The locale cost runs the example brief alone, then with Latin-script and CJK locales, one job at a
time on the embedded default with stub providers (which do not translate, so no translation call
is counted), and reports the added job latency per locale (median of `--runs`).

Run: python scripts/bench_pipeline.py [--jobs 20] [--skip-demo] [--backends embedded postgres] [--locales] [--runs 3]
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


LOCALE_SETS = {"none": [], "latin x1": ["de_DE"], "latin x3": ["de_DE", "fr_FR", "pl_PL"], "ja_JP": ["ja_JP"],
               "zh_CN": ["zh_CN"], "ar_AE": ["ar_AE"]}


def locale_cost(runs: int) -> list[dict[str, Any]]:
    """Median job latency alone and with each set of locales; the added seconds per locale (stub providers)."""
    from cluster.client import connect
    from cluster.settings import Settings

    home = Path(tempfile.mkdtemp(prefix="mka-bench-"))
    client = connect(Settings(home=home, ray_namespace=f"bench-{uuid.uuid4().hex[:6]}"))
    brief = yaml.safe_load((ROOT / "examples" / "brief.yaml").read_text())
    client.wait(client.submit({**brief, "locales": ["de_DE", "ja_JP"]}))  # warm-up: actors, catalogs, CJK fonts
    rows = []
    base = None
    for name, locales in LOCALE_SETS.items():
        latencies = []
        for _ in range(runs):
            final = client.wait(client.submit({**brief, "locales": locales} if locales else brief), poll_s=0.02)
            assert final.state.value == "completed", final.error
            latencies.append((final.updated_at - final.created_at).total_seconds())
        median = statistics.median(latencies)
        base = median if base is None else base
        per = (median - base) / len(locales) if locales else 0.0
        rows.append({"locales": name, "count": len(locales), "job_p50_s": round(median, 2),
                     "added_per_locale_s": round(per, 2)})
    ray.shutdown()
    return rows


def main() -> None:
    """Parse arguments, run the measurements, print them as a table and as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--backends", nargs="+", default=["embedded", "postgres"], choices=["embedded", "postgres"])
    parser.add_argument("--locales", action="store_true", help="Measure only what localized reports add.")
    parser.add_argument("--runs", type=int, default=3, help="Jobs per locale set (--locales).")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    if args.locales:
        report["locales"] = locale_cost(args.runs)
        print(f"{'locales':<10} {'count':>5} {'job p50 s':>10} {'added/locale s':>15}")
        for row in report["locales"]:
            print(f"{row['locales']:<10} {row['count']:>5} {row['job_p50_s']:>10} {row['added_per_locale_s']:>15}")
        print(json.dumps(report))
        return
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
