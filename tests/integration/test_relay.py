"""Integration tests of the outbox relay against the real NATS JetStream and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from actors.job_store import OutboxMessage
from cluster.relay import STREAM_SUBJECTS, OutboxRelay, ensure_stream, run_relay
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import Brief, Event, EventBusError, JobState, event_subject
from tests.conftest import NATS_URL, unique_project, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

STREAM = "MKA_EVENTS"
WINDOW_S = 300.0
# A job through the pipeline: job.submitted plus one job.state_changed per state.
PATH = (JobState.VALIDATING, JobState.REDACTING, JobState.COLLECTING, JobState.ANALYZING)


@pytest.fixture(scope="module", autouse=True)
def _nats_up() -> None:
    wait_for_port("127.0.0.1", int(NATS_URL.rsplit(":", 1)[1]))


# --- helpers ------------------------------------------------------------------------------------


def _brief(project: str) -> Brief:
    return Brief.model_validate(
        {
            "project": project,
            "product": {"name": "Oat milk"},
            "markets": ["DE"],
            "audience": "urban adults",
            "questions": ["How big is the market?"],
            "locale": "en_US",
        }
    )


def _new_job(store: SqlJobStore, project: str, states: tuple[JobState, ...] = PATH) -> list[OutboxMessage]:
    """Submit a job and move it along `states`; return its outbox messages in order."""
    job = store.submit(_brief(project))
    for state in states:
        job = store.transition(job.id, state, expected_version=job.version)
    return store.events(job.id)


def _pending(store: SqlJobStore, messages: list[OutboxMessage]) -> list[str]:
    """Event ids among `messages` that the outbox still holds as unpublished."""
    job_ids = {m.event.job_id for m in messages}
    return [m.event.id for job_id in job_ids for m in store.events(job_id) if m.published_at is None]


def _relay(store: SqlJobStore, **options: Any) -> OutboxRelay:
    return OutboxRelay(store, nats_url=NATS_URL, stream=STREAM, duplicate_window_s=WINDOW_S, **options)


async def _js() -> tuple[Client, JetStreamContext]:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await ensure_stream(js, name=STREAM, duplicate_window_s=WINDOW_S)
    return nc, js


async def _stored(js: JetStreamContext, project: str) -> int:
    """How many messages the stream holds under the project's subjects."""
    info = await js.stream_info(STREAM, subjects_filter=f"mka.events.{project}.>")
    return sum((info.state.subjects or {}).values())


async def _consume(js: JetStreamContext, project: str, expected: int, timeout_s: float = 20.0) -> list[Msg]:
    """Read the project's messages with an ordered consumer until `expected` arrived (or time out)."""
    sub = await js.subscribe(f"mka.events.{project}.>", stream=STREAM, ordered_consumer=True)
    received: list[Msg] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(received) < expected:
            received.append(await sub.next_msg(timeout=max(0.01, deadline - time.monotonic())))
    finally:
        await sub.unsubscribe()
    return received


def _assert_exactly_once(received: list[Msg], messages: list[OutboxMessage]) -> None:
    counts = Counter((m.headers or {}).get("Nats-Msg-Id") for m in received)
    assert [i for i, n in counts.items() if n > 1] == [], "duplicates delivered"
    assert set(counts) == {m.event.id for m in messages}, "events missing or foreign"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _TcpProxy:
    """A TCP forwarder to NATS that the test can cut and restore, to stage a NATS outage."""

    def __init__(self, target_port: int) -> None:
        self.port = _free_port()
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)


async def _until(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


# --- stream -------------------------------------------------------------------------------------


def test_ensure_stream_twice_keeps_one_stream_covering_the_events() -> None:
    async def body() -> None:
        nc, js = await _js()
        try:
            first = await ensure_stream(js, name=STREAM, duplicate_window_s=WINDOW_S)
            second = await ensure_stream(js, name=STREAM, duplicate_window_s=WINDOW_S)
            assert STREAM_SUBJECTS in (second.config.subjects or [])
            assert second.config.duplicate_window == WINDOW_S
            assert first.created == second.created
        finally:
            await nc.close()

    asyncio.run(body())


def test_ensure_stream_is_safe_when_relays_race_to_create_it() -> None:
    async def body() -> None:
        name = f"MKA_TEST_{uuid.uuid4().hex[:10].upper()}"
        subjects = (f"mkatest.{name.lower()}.>",)
        conns = [await nats.connect(NATS_URL) for _ in range(4)]
        try:
            infos = await asyncio.gather(
                *(ensure_stream(nc.jetstream(), name=name, duplicate_window_s=60.0, subjects=subjects) for nc in conns)
            )
            assert {i.created for i in infos} == {infos[0].created}
            # An existing stream with another window is brought to ours, keeping it (no re-create).
            updated = await ensure_stream(conns[0].jetstream(), name=name, duplicate_window_s=30.0, subjects=subjects)
            assert updated.config.duplicate_window == 30.0
            assert updated.created == infos[0].created
        finally:
            await conns[0].jetstream().delete_stream(name)
            for nc in conns:
                await nc.close()

    asyncio.run(body())


# --- relaying -----------------------------------------------------------------------------------


def test_events_arrive_on_their_subjects_in_order_with_headers_and_payload(pg_store: SqlJobStore) -> None:
    project = unique_project("relay")
    messages = _new_job(pg_store, project) + _new_job(pg_store, project, PATH[:1])

    async def body() -> list[Msg]:
        relay = _relay(pg_store, batch_size=3)  # several batches
        try:
            await relay.connect()
            assert await relay.drain() >= len(messages)
        finally:
            await relay.close()
        nc, js = await _js()
        try:
            return await _consume(js, project, len(messages))
        finally:
            await nc.close()

    received = asyncio.run(body())
    _assert_exactly_once(received, messages)
    assert [m.headers and m.headers["Nats-Msg-Id"] for m in received] == [m.event.id for m in messages]
    for msg, outbox in zip(received, messages, strict=True):
        event = Event.model_validate_json(msg.data)
        assert event == outbox.event
        assert msg.subject == outbox.subject == event_subject(project, event.job_id, event.type)
        assert msg.headers is not None and outbox.headers.items() <= msg.headers.items()
    assert _pending(pg_store, messages) == []


def test_relay_dying_between_publish_and_mark_delivers_each_event_once(pg_store: SqlJobStore) -> None:
    class CrashOnMark(SqlJobStore):
        def mark_published(self, event_ids: list[str]) -> None:
            raise RuntimeError("relay died before marking")

    project = unique_project("crash")
    messages = _new_job(pg_store, project) + _new_job(pg_store, project)
    crashing = CrashOnMark(pg_store.engine, migrate=False)

    async def body() -> list[Msg]:
        nc, js = await _js()
        try:
            dying = _relay(crashing, batch_size=1000)
            with pytest.raises(RuntimeError):
                await dying.drain()
            await dying.close()
            assert await _stored(js, project) == len(messages)  # published ...
            assert sorted(_pending(pg_store, messages)) == sorted(m.event.id for m in messages)  # ... not marked

            fresh = _relay(pg_store)
            try:
                assert await fresh.drain() >= len(messages)  # re-published: JetStream drops the duplicates
            finally:
                await fresh.close()
            assert await _stored(js, project) == len(messages)
            return await _consume(js, project, len(messages))
        finally:
            await nc.close()

    received = asyncio.run(body())
    _assert_exactly_once(received, messages)
    assert _pending(pg_store, messages) == []


@pytest.mark.chaos
def test_relay_process_killed_before_mark_delivers_each_event_once(pg_store: SqlJobStore, pg_url: str) -> None:
    project = unique_project("kill")
    messages = _new_job(pg_store, project)
    child = textwrap.dedent(
        f"""
        import asyncio, os
        from cluster.db import make_engine
        from cluster.relay import OutboxRelay
        from cluster.sql_store import SqlJobStore

        class DieOnMark(SqlJobStore):
            def mark_published(self, event_ids):
                os._exit(17)  # the process dies with the PubAcks in hand

        store = DieOnMark(make_engine({pg_url!r}), migrate=False)
        relay = OutboxRelay(store, nats_url={NATS_URL!r}, stream={STREAM!r}, batch_size=5000)
        asyncio.run(relay.drain())
        """
    )
    done = subprocess.run([sys.executable, "-c", child], cwd=os.getcwd(), timeout=60, capture_output=True)
    assert done.returncode == 17, done.stderr.decode()[-2000:]
    assert sorted(_pending(pg_store, messages)) == sorted(m.event.id for m in messages)

    async def body() -> list[Msg]:
        nc, js = await _js()
        try:
            assert await _stored(js, project) == len(messages)
            fresh = _relay(pg_store)
            try:
                await fresh.drain()
            finally:
                await fresh.close()
            assert await _stored(js, project) == len(messages)
            return await _consume(js, project, len(messages))
        finally:
            await nc.close()

    received = asyncio.run(body())
    _assert_exactly_once(received, messages)
    assert _pending(pg_store, messages) == []


def test_two_relays_draining_at_once_deliver_each_event_once(pg_store: SqlJobStore) -> None:
    project = unique_project("race")
    messages = [m for _ in range(5) for m in _new_job(pg_store, project)]

    async def body() -> list[Msg]:
        relays = [_relay(pg_store, batch_size=4) for _ in range(2)]
        try:
            await asyncio.gather(*(r.drain() for r in relays))
        finally:
            for relay in relays:
                await relay.close()
        nc, js = await _js()
        try:
            assert await _stored(js, project) == len(messages)
            return await _consume(js, project, len(messages))
        finally:
            await nc.close()

    received = asyncio.run(body())
    _assert_exactly_once(received, messages)
    assert _pending(pg_store, messages) == []


def test_unreachable_nats_marks_nothing_published(pg_store: SqlJobStore) -> None:
    messages = _new_job(pg_store, unique_project("down"))
    relay = OutboxRelay(
        pg_store,
        nats_url=f"nats://127.0.0.1:{_free_port()}",
        connect_timeout_s=0.5,
        reconnect_time_wait_s=0.05,
        max_reconnect_attempts=1,
    )

    async def body() -> None:
        with pytest.raises(EventBusError) as caught:
            await relay.relay_once()
        assert caught.value.retryable
        await relay.close()

    asyncio.run(body())
    assert sorted(_pending(pg_store, messages)) == sorted(m.event.id for m in messages)


def test_run_keeps_retrying_an_unreachable_nats_and_stops_promptly(
    pg_store: SqlJobStore, caplog: pytest.LogCaptureFixture
) -> None:
    messages = _new_job(pg_store, unique_project("retry"))
    caplog.set_level(logging.WARNING, logger="cluster.relay")
    # Default reconnect options: connecting alone would try for ~30 s before giving up.
    relay = OutboxRelay(pg_store, nats_url=f"nats://127.0.0.1:{_free_port()}", reconnect_time_wait_s=0.1)

    async def body() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        await _until(lambda: sum("nats:" in r.getMessage() for r in caplog.records) >= 3)
        stop.set()
        assert await asyncio.wait_for(task, timeout=5) == 0
        await relay.close()

    asyncio.run(body())
    assert sorted(_pending(pg_store, messages)) == sorted(m.event.id for m in messages)


def test_run_relays_until_stopped_and_survives_a_nats_outage(
    pg_store: SqlJobStore, caplog: pytest.LogCaptureFixture
) -> None:
    project = unique_project("outage")
    caplog.set_level(logging.WARNING, logger="cluster.relay")

    async def body() -> None:
        proxy = _TcpProxy(int(NATS_URL.rsplit(":", 1)[1]))
        await proxy.start()
        relay = OutboxRelay(
            pg_store,
            nats_url=f"nats://127.0.0.1:{proxy.port}",
            poll_interval_s=0.05,
            ack_timeout_s=0.5,
            reconnect_time_wait_s=0.1,
            max_backoff_s=0.5,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        nc, js = await _js()
        try:
            before = _new_job(pg_store, project)
            await _consume(js, project, len(before))

            await proxy.stop()
            during = _new_job(pg_store, project)
            await _until(lambda: any("relay error" in r.getMessage() for r in caplog.records))
            assert sorted(_pending(pg_store, during)) == sorted(m.event.id for m in during)

            await proxy.start()
            received = await _consume(js, project, len(before) + len(during))
            await _until(lambda: not _pending(pg_store, before + during))
            assert await _stored(js, project) == len(before) + len(during)
            _assert_exactly_once(received, before + during)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
            await relay.close()
            await proxy.stop()
            await nc.close()
        assert task.result() >= len(before) + len(during)

    asyncio.run(body())


def test_run_relay_once_drains_and_is_a_no_op_without_nats_url(pg_store: SqlJobStore) -> None:
    messages = _new_job(pg_store, unique_project("cli"))

    assert run_relay(Settings(nats_url=None), pg_store, once=True) == 0
    assert sorted(_pending(pg_store, messages)) == sorted(m.event.id for m in messages)

    assert run_relay(Settings(nats_url=NATS_URL, nats_stream=STREAM), pg_store, once=True) >= len(messages)
    assert _pending(pg_store, messages) == []


# --- signed events through NATS -------------------------------------------------------------------


def test_signed_events_verify_off_the_stream_and_forged_tampered_or_replayed_ones_do_not(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A consumer verifies what the relay published; a foreign publisher's, an edited or a replayed message fails."""
    import json

    from typer.testing import CliRunner

    from cluster.cli import app
    from cluster.events import EventVerifier
    from cluster.relay import read_messages
    from cluster.signing import SigningKey, load_keyset
    from tests.conftest import TEST_KEYRING

    settings = Settings(home=tmp_path / "home", vault_key=TEST_KEYRING.keys[0].decode(), nats_url=NATS_URL,
                        nats_stream=STREAM)
    for name, value in (("MKA_HOME", str(settings.home)), ("MKA_VAULT_KEY", TEST_KEYRING.keys[0].decode()),
                        ("MKA_NATS_URL", NATS_URL), ("MKA_NATS_STREAM", STREAM)):
        monkeypatch.setenv(name, value)
    store = SqlJobStore.from_settings(settings)
    project = unique_project()
    messages = _new_job(store, project)
    job_id = messages[0].event.job_id

    async def scenario() -> tuple[list[Any], list[Any]]:
        relay = _relay(store)
        try:
            await relay.connect()
            await relay.drain()
        finally:
            await relay.close()
        subject = f"mka.events.*.{job_id}.>"
        genuine = await read_messages(NATS_URL, stream=STREAM, subject=subject)
        nc, js = await _js()
        try:
            first_subject, first_headers, first_data = genuine[1]
            body = json.loads(first_data)
            # tampered payload, headers kept (a new Nats-Msg-Id so JetStream's dedup keeps it)
            edited = {**body, "payload": {**body["payload"], "to_state": "completed"}}
            await js.publish(first_subject, json.dumps(edited).encode(), stream=STREAM,
                             headers={**first_headers, "Nats-Msg-Id": str(uuid.uuid4())})
            # genuine payload, tampered header
            await js.publish(first_subject, first_data, stream=STREAM,
                             headers={**first_headers, "Nats-Msg-Id": body["id"] + "-x",
                                      "Mka-Event-Type": "job.completed"})
            # a foreign publisher with its own key
            forged = SigningKey.generate().sign({**body, "id": str(uuid.uuid4()), "sequence": 10**9})
            await js.publish(first_subject, json.dumps(forged).encode(), stream=STREAM,
                             headers={"Nats-Msg-Id": forged["id"], "Mka-Key-Id": forged["key_id"],
                                      "Mka-Signature": forged["signature"]})
            # the genuine message again, as a replay (no Nats-Msg-Id, so the stream keeps it)
            await js.publish(first_subject, first_data, stream=STREAM,
                             headers={k: v for k, v in first_headers.items() if k != "Nats-Msg-Id"})
        finally:
            await nc.close()
        return genuine, await read_messages(NATS_URL, stream=STREAM, subject=subject)

    genuine, everything = asyncio.run(scenario())
    assert [json.loads(d)["id"] for _, _, d in genuine] == [m.event.id for m in messages]
    verifier = EventVerifier(load_keyset(settings))
    verdicts = [verifier.verify(d, headers=h, subject=s) for s, h, d in everything]
    assert [v.status for v in verdicts] == ["verified"] * len(messages) + [
        "bad signature", "headers do not match the signed event (Nats-Msg-Id, Mka-Event-Type)", "unknown key",
        "replayed"]
    runner = CliRunner()
    result = runner.invoke(app, ["events", "verify", job_id, "--source", "nats", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["events"] == len(messages) + 4 and report["verified"] == len(messages)
    assert runner.invoke(app, ["events", "verify", job_id]).exit_code == 0  # the outbox itself is intact


def test_the_stream_keeps_events_as_long_as_the_longest_event_retention(tmp_path: Any) -> None:
    """The relay's stream max_age is the longest event period of any project; ensure_stream sets and updates it."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("projects:\n  legal:\n    event_retention_days: 12\n")
    settings = Settings(home=tmp_path, nats_url=NATS_URL, event_retention_days=3, cleanup_rules=rules)
    store = SqlJobStore.from_settings(settings)
    assert OutboxRelay.from_settings(settings, store).max_age_s == 12 * 86400
    assert OutboxRelay.from_settings(settings.model_copy(update={"cleanup_rules": None}), store).max_age_s == 3 * 86400
    name = f"MKA_RETAIN_{uuid.uuid4().hex[:8].upper()}"
    subjects = [f"mka.retaintest.{name.lower()}.>"]

    async def scenario() -> tuple[float, float]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        try:
            await ensure_stream(js, name=name, duplicate_window_s=60, subjects=subjects, max_age_s=12 * 86400)
            first = (await js.stream_info(name)).config.max_age or 0.0
            await ensure_stream(js, name=name, duplicate_window_s=60, subjects=subjects, max_age_s=3 * 86400)
            second = (await js.stream_info(name)).config.max_age or 0.0
            await js.delete_stream(name)
            return first, second
        finally:
            await nc.close()

    first, second = asyncio.run(scenario())
    assert first == pytest.approx(12 * 86400) and second == pytest.approx(3 * 86400)
