"""Benchmark the sweep: catalog size vs. time and memory for a dry run, a deleting run and an idle rerun.

Usage: python scripts/bench_sweep.py [--jobs 200] [--objects 20] [--database sqlite|postgresql] [--json]

Builds finished jobs with `--objects` catalog objects each (filesystem store, SQLite file or a fresh
database on the local PostgreSQL), then times `sweep` a year later: dry, real (deletes everything), and again
(deletes nothing). Prints rows, seconds and rows/s per run, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actors.lifecycle.catalog import write_object  # noqa: E402
from actors.lifecycle.sweep import sweep  # noqa: E402
from cluster.db import make_engine  # noqa: E402
from cluster.objects import FsObjectStore  # noqa: E402
from cluster.sql_store import SqlJobStore  # noqa: E402
from schemas import ArtifactKind, Brief, JobState, StoredPii  # noqa: E402
from schemas.lifecycle import CleanupRules  # noqa: E402
from tests.conftest import TEST_KEYRING, brief_data  # noqa: E402


def main() -> None:
    """Build the catalog, run the three sweeps, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mka-bench-sweep-"))
    if args.database == "sqlite":
        url = f"sqlite:///{home / 'mka.db'}"
    else:  # a database of its own: a sweep applies to every row of its catalog
        import psycopg

        name = f"mka_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    store = SqlJobStore(engine, keyring=TEST_KEYRING)
    objects = FsObjectStore(home / "objects")
    t0 = time.perf_counter()
    project = f"bench-{uuid.uuid4().hex[:8]}"
    for _ in range(args.jobs):
        job = store.submit(Brief.model_validate(brief_data(project=project)))
        job = store.transition(job.id, JobState.CANCELLED, expected_version=job.version)
        for i in range(args.objects):
            write_object(objects, store, project=job.project, job_id=job.id, name=f"steps/s{i}.json", data=b"{}",
                         kind=ArtifactKind.CHECKPOINT, content_type="application/json",
                         pii_class=StoredPii.PSEUDONYMIZED, step=f"s{i}", created_at=job.created_at)
    build_s = time.perf_counter() - t0
    rows = len(store.catalog(project=project))
    later = store.catalog(project=project)[0].created_at + timedelta(days=400)
    rules = CleanupRules(batch_size=100_000)
    runs = []
    for label, dry in (("dry", True), ("delete", False), ("idle", False)):
        t = time.perf_counter()
        result = sweep(store, objects, later, rules, dry_run=dry)
        seconds = time.perf_counter() - t
        runs.append({"run": label, "deleted": len(result.deleted), "seconds": round(seconds, 3),
                     "rows_per_s": round(rows / seconds) if seconds else None})
    engine.dispose()
    if args.database == "postgresql":
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}"')
    out = {"database": args.database, "jobs": args.jobs, "rows": rows, "build_s": round(build_s, 2), "runs": runs,
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"{args.database}: {rows} rows ({args.jobs} jobs), built in {out['build_s']} s, peak RSS {out['peak_rss_mib']} MiB")
    for r in runs:
        print(f"  {r['run']:<7} deleted {r['deleted']:>6}  {r['seconds']:>7} s  {r['rows_per_s']} rows/s")


if __name__ == "__main__":
    main()
