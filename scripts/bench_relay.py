"""Benchmark: events per second through the outbox relay into NATS JetStream.

Fills the outbox with `--events` events (jobs walked through the pipeline by the real job store),
then times `OutboxRelay.drain()` — read a batch, publish each message and await its PubAck, mark
the batch published — and prints events/s. Rows already pending are relayed first, untimed.

Run (NATS with JetStream on 127.0.0.1:4222, PostgreSQL on 127.0.0.1:5432):

    python scripts/bench_relay.py                       # 3,000 events, PostgreSQL db `test`
    python scripts/bench_relay.py --events 5000 --batch-size 500
    python scripts/bench_relay.py --db sqlite           # a fresh SQLite file in a temp dir
    python scripts/bench_relay.py --database-url postgresql+psycopg://u@host/db --nats-url nats://host:4222
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

from actors.pii.keys import Keyring
from actors.state_machine import PIPELINE
from cluster.db import make_engine
from cluster.relay import OutboxRelay
from cluster.sql_store import SqlJobStore
from schemas import Brief

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fill_outbox(store: SqlJobStore, events: int) -> int:
    """Walk jobs through the pipeline until at least `events` events are in the outbox; return the count."""
    project = f"bench-{uuid.uuid4().hex[:12]}"
    brief = Brief.model_validate(
        {
            "project": project,
            "product": {"name": "Oat milk"},
            "markets": ["DE"],
            "audience": "urban adults",
            "questions": ["How big is the market?"],
            "locale": "en_US",
        }
    )
    written = 0
    while written < events:
        job = store.submit(brief)
        written += 1
        for state in PIPELINE[1:]:
            if written >= events:
                break
            job = store.transition(job.id, state, expected_version=job.version)
            written += 1
    return written


async def bench(store: SqlJobStore, *, events: int, nats_url: str, stream: str, batch_size: int) -> dict[str, float]:
    """Relay whatever is pending, fill the outbox, then time one `drain()`."""
    relay = OutboxRelay(store, nats_url=nats_url, stream=stream, batch_size=batch_size)
    try:
        await relay.connect()
        backlog = await relay.drain()
        written = await asyncio.to_thread(fill_outbox, store, events)
        start = time.perf_counter()
        relayed = await relay.drain()
        elapsed = time.perf_counter() - start
    finally:
        await relay.close()
    return {
        "events": written,
        "relayed": relayed,
        "seconds": round(elapsed, 3),
        "events_per_s": round(relayed / elapsed, 1) if elapsed else 0.0,
        "batch_size": batch_size,
        "backlog_relayed_first": backlog,
    }


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run the benchmark and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="outbox rows to relay (default 3000)")
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--database-url", default=None, help=f"SQLAlchemy URL (default {DEFAULT_PG_URL})")
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--stream", default="MKA_EVENTS")
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or (
            f"sqlite:///{Path(tmp) / 'bench.db'}" if args.db == "sqlite" else DEFAULT_PG_URL
        )
        engine = make_engine(url)
        try:
            result = asyncio.run(
                bench(
                    SqlJobStore(engine, keyring=Keyring([Keyring.generate()])),
                    events=args.events,
                    nats_url=args.nats_url,
                    stream=args.stream,
                    batch_size=args.batch_size,
                )
            )
        finally:
            engine.dispose()
    if args.json:
        print(json.dumps({"database": engine.url.get_backend_name(), **result}))
    else:
        print(
            f"relayed {result['relayed']} events in {result['seconds']:.2f}s "
            f"({engine.url.get_backend_name()}, batch {args.batch_size}): "
            f"{result['events_per_s']:,.0f} events/s"
        )


if __name__ == "__main__":
    main()
