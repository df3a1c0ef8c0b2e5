"""Benchmark: job state transitions per second (each with its outbox event) on the job store.

Run: python scripts/bench_store.py [--database-url URL] [--jobs 200] [--threads 1 4 8] [--unsigned]
Default URL is the local PostgreSQL test database; pass sqlite:///PATH for the embedded default.
"""

from __future__ import annotations

import argparse
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from actors.pii.keys import Keyring
from actors.state_machine import PIPELINE
from cluster.db import make_engine
from cluster.signing import SigningKey
from cluster.sql_store import SqlJobStore
from schemas import Brief

BRIEF = {
    "product": {"name": "Bench product"},
    "markets": ["DE"],
    "audience": "benchmark audience",
    "questions": ["How large is the market?"],
    "locale": "en_US",
}


def walk(store: SqlJobStore, brief: Brief) -> int:
    """Submit one job and move it through the whole pipeline; return the transitions made."""
    job = store.submit(brief)
    for state in PIPELINE[1:]:
        job = store.transition(job.id, state, expected_version=job.version)
    return len(PIPELINE) - 1


def main() -> None:
    """Parse arguments, run each thread count, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--unsigned", action="store_true", help="Write events unsigned (to see what signing costs).")
    args = parser.parse_args()
    engine = make_engine(args.database_url, pool_size=max(args.threads) + 2)
    signer = None if args.unsigned else SigningKey.generate().sign  # every event signed, as deployed
    store = SqlJobStore(engine, keyring=Keyring([Keyring.generate()]), signer=signer)  # seals each brief, as submit does
    brief = Brief.model_validate({**BRIEF, "project": f"bench-{uuid.uuid4().hex[:8]}"})
    walk(store, brief)  # warm-up: migrations, pool, statement caches
    print(f"backend={engine.dialect.name} jobs={args.jobs} transitions/job={len(PIPELINE) - 1}")
    print(f"{'threads':>8} {'transitions':>12} {'seconds':>8} {'transitions/s':>14}")
    for threads in args.threads:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            total = sum(pool.map(lambda _: walk(store, brief), range(args.jobs)))
        elapsed = time.perf_counter() - start
        print(f"{threads:>8} {total:>12} {elapsed:>8.2f} {total / elapsed:>14.0f}")
    engine.dispose()


if __name__ == "__main__":
    main()
