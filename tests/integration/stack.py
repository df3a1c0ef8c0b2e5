"""The whole system on a local Ray for end-to-end and chaos tests: own database, S3 server, NATS, planted PII."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest
import ray
from sqlalchemy.engine import make_url

from cluster.client import MkaClient, connect
from cluster.relay import OutboxRelay
from cluster.settings import Settings
from schemas import JobRecord, JobState, parse_event
from tests.conftest import NATS_URL, brief_data, wait_for_port
from tests.integration.s3_server import start_s3_server
from tests.integration.tcp_proxy import TcpProxy

PLANTED_BRIEF = ["Sabine Fischer", "sabine.fischer@example.org", "+49 151 23456789"]
PLANTED_EVIDENCE = ["Henrik Vogel", "henrik.vogel@example.net"]
PLANTED = PLANTED_BRIEF + PLANTED_EVIDENCE


@dataclass
class Stack:
    """A running system: client (Ray actors), settings, and handles on its infrastructure."""

    client: MkaClient
    settings: Settings
    s3_proxy: TcpProxy
    database_url: str
    extras: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def fresh_database(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database of its own (the orchestrator resumes only this stack's jobs)."""
    name = f"mka_e2e_{uuid.uuid4().hex[:10]}"
    admin = make_url(pg_url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def planted_dataset(directory: Path) -> Path:
    """The bundled sample dataset with PII planted in its notice (it becomes evidence text)."""
    data = json.loads(resources.files("actors.mcp").joinpath("data/market_sample.json").read_text(encoding="utf-8"))
    data["_notice"] = f"{data['_notice']} Curated by {PLANTED_EVIDENCE[0]} ({PLANTED_EVIDENCE[1]})."
    path = directory / "market.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@contextlib.contextmanager
def running_stack(pg_url: str, home: Path, **overrides: Any) -> Iterator[Stack]:
    """Start Ray and the actors on PostgreSQL + S3 (behind a proxy that tests can take down) + NATS."""
    wait_for_port("127.0.0.1", int(NATS_URL.rsplit(":", 1)[1]))
    s3, moto = start_s3_server()
    host, port = s3.endpoint.split(":")
    proxy = TcpProxy(host, int(port))
    proxy.up()
    with fresh_database(pg_url) as database:
        settings = Settings(
            home=home,
            database_url=database,
            nats_url=NATS_URL,
            s3_endpoint=proxy.endpoint,
            s3_access_key=s3.access_key,
            s3_secret_key=s3.secret_key,
            s3_bucket=f"e2e-{uuid.uuid4().hex[:8]}",
            ray_namespace=f"mka-e2e-{uuid.uuid4().hex[:8]}",
            quorum_deadline_s=10,
            quorum_grace_s=0.3,
            mcp_servers={
                "market-data": {
                    "command": sys.executable,
                    "args": ["-m", "actors.mcp.market_data_server"],
                    "env": {"MKA_MARKET_DATA_FILE": str(planted_dataset(home))},
                }
            },
            **overrides,
        )
        if ray.is_initialized():
            ray.shutdown()
        client = connect(settings)
        try:
            yield Stack(client=client, settings=client.settings, s3_proxy=proxy, database_url=database)
        finally:
            ray.shutdown()
            proxy.down()
            moto.stop()


@dataclass(frozen=True)
class Portal:
    """The portal on Ray Serve over a running stack: its base URL and one API key per role of `project`."""

    stack: Stack
    base: str
    project: str
    keys: dict[str, str]


@contextlib.contextmanager
def running_portal(stack: Stack, project: str, roles: tuple[str, ...] = ("viewer", "analyst", "admin")) -> Iterator[Portal]:
    """Serve the portal (Ray Serve, as `mka serve` does) on a free loopback port; make `project` and a key per role."""
    import socket

    from ray import serve

    from cluster.identity_store import SqlIdentityStore
    from serve_app.auth import create_key, create_project
    from serve_app.deployment import portal_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(portal_app(stack.settings), name="mka-portal", route_prefix="/")
    identity = SqlIdentityStore(stack.client.store.engine)
    if identity.get_project(project) is None:
        create_project(identity, project, actor="test")
    keys = {role: create_key(identity, project=project, role=role, actor="test")[1] for role in roles}
    try:
        yield Portal(stack=stack, base=f"http://127.0.0.1:{port}", project=project, keys=keys)
    finally:
        serve.shutdown()


def planted_brief(**overrides: Any) -> dict[str, Any]:
    """A valid brief carrying the planted PII in its free text."""
    return brief_data(
        audience=f"Coffee lovers like our tester {PLANTED_BRIEF[0]} ({PLANTED_BRIEF[1]}, {PLANTED_BRIEF[2]})",
        notes=f"Questions to {PLANTED_BRIEF[0]}.",
        **overrides,
    )


def wait_state(client: MkaClient, job_id: str, states: set[JobState], timeout_s: float = 60) -> JobRecord:
    """Poll until the job is in one of `states` (or terminal)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(job_id)
        if job.state in states or job.terminal:
            return job
        time.sleep(0.02)
    pytest.fail(f"job {job_id} never reached {states}")


def ray_logs() -> str:
    """Everything Ray's workers wrote in this session."""
    logs_dir = Path(ray._private.worker._global_node.get_logs_dir_path())  # noqa: SLF001 - test inspects logs
    return "".join(p.read_text(errors="replace") for p in logs_dir.glob("*") if p.is_file())


def assert_no_planted_pii(channels: dict[str, str]) -> None:
    """No planted value (case-insensitive) in any channel."""
    for channel, blob in channels.items():
        for value in PLANTED:
            assert value.lower() not in blob.lower(), f"{value!r} leaked into {channel}"


class BackgroundRelay:
    """The outbox relay running in a thread for the duration of a test (as `mka relay` would)."""

    def __init__(self, client: MkaClient) -> None:
        self.client = client
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def __enter__(self) -> BackgroundRelay:
        self._thread.start()
        while self._stop is None:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)

    def _main(self) -> None:
        async def go() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            relay = OutboxRelay(self.client.store, nats_url=NATS_URL, poll_interval_s=0.05)
            await relay.run(self._stop)
            await relay.connect()
            await relay.drain()
            await relay.close()

        asyncio.run(go())


def consume_job_events(job: JobRecord, *, idle_s: float = 2.0) -> list[str]:
    """Every Nats-Msg-Id JetStream holds for the job, in order (an ordered consumer from the start)."""
    import nats

    async def go() -> list[str]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        sub = await js.subscribe(f"mka.events.{job.project}.{job.id}.>", ordered_consumer=True)
        ids: list[str] = []
        while True:
            try:
                msg = await sub.next_msg(timeout=idle_s)
            except nats.errors.TimeoutError:
                break
            assert parse_event(msg.data).id == msg.headers["Nats-Msg-Id"]  # consumers check the version
            ids.append(msg.headers["Nats-Msg-Id"])
        await nc.close()
        return ids

    return asyncio.run(go())
