"""Event relay: copies the job store's outbox to NATS JetStream, in order, at least once, deduplicated.

Each outbox row is published to `mka.events.<project>.<job_id>.<type>` with the row's headers,
whose `Nats-Msg-Id` is the event id, so JetStream drops a re-publish inside the stream's
duplicate window (a relay that died between publish and mark, or two relays racing). A row is
marked published only after its PubAck. Without `MKA_NATS_URL` nothing is relayed and the
outbox stays the only record (`mka events JOB` reads it).

Example:
    >>> relay = OutboxRelay(store, nats_url="nats://127.0.0.1:4222")  # doctest: +SKIP
    >>> await relay.connect(); await relay.drain(); await relay.close()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import nats
import nats.errors
from nats.js import api as js_api
from nats.js import errors as js_errors

from schemas import EventBusError

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext

    from actors.job_store import JobStore, OutboxMessage
    from cluster.settings import Settings

__all__ = ["STREAM_SUBJECTS", "OutboxRelay", "ensure_stream", "read_messages", "run_relay"]

STREAM_SUBJECTS = "mka.events.>"
_STREAM_NAME_IN_USE = 10058  # JetStream err_code: stream exists with a different configuration
_NATS_ERRORS = (nats.errors.Error, OSError, asyncio.TimeoutError)
_log = logging.getLogger(__name__)


async def ensure_stream(
    js: JetStreamContext,
    *,
    name: str,
    duplicate_window_s: float,
    subjects: Sequence[str] = (STREAM_SUBJECTS,),
    max_age_s: float | None = None,
) -> js_api.StreamInfo:
    """Create the stream if missing, else make it cover `subjects` with our duplicate window (and, when given, keep
    messages `max_age_s`: the events' retention); idempotent.

    Safe when relays race: creating an identical stream succeeds, and a create that loses to a
    different configuration falls back to reading and updating the stream.
    """
    try:
        try:
            info = await js.stream_info(name)
        except js_errors.NotFoundError:
            config = js_api.StreamConfig(
                name=name,
                subjects=list(subjects),
                duplicate_window=duplicate_window_s,
                storage=js_api.StorageType.FILE,
                max_age=max_age_s,
            )
            try:
                return await js.add_stream(config)
            except js_errors.BadRequestError as exc:
                if exc.err_code != _STREAM_NAME_IN_USE:
                    raise
                info = await js.stream_info(name)  # another relay created it first
        have = list(info.config.subjects or [])
        missing = [s for s in subjects if s not in have]
        age = info.config.max_age if max_age_s is None else max_age_s
        if not missing and info.config.duplicate_window == duplicate_window_s and info.config.max_age == age:
            return info
        wanted = replace(info.config, subjects=have + missing, duplicate_window=duplicate_window_s, max_age=age)
        return await js.update_stream(wanted)
    except _NATS_ERRORS as exc:
        raise EventBusError(f"cannot ensure JetStream stream {name!r}: {exc}") from exc


class OutboxRelay:
    """Publishes pending outbox messages to JetStream and marks them published after their PubAck.

    Example:
        >>> relay = OutboxRelay.from_settings(settings, store)  # doctest: +SKIP
        >>> stop = asyncio.Event(); await relay.run(stop)  # doctest: +SKIP
    """

    def __init__(
        self,
        store: JobStore,
        *,
        nats_url: str,
        stream: str = "MKA_EVENTS",
        batch_size: int = 200,
        poll_interval_s: float = 0.2,
        duplicate_window_s: float = 300.0,
        ack_timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        reconnect_time_wait_s: float = 0.5,
        max_reconnect_attempts: int = 60,
        max_backoff_s: float = 10.0,
        max_age_s: float | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._nats_url = nats_url
        self._stream = stream
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._duplicate_window_s = duplicate_window_s
        self._ack_timeout_s = ack_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_time_wait_s = reconnect_time_wait_s
        self._max_reconnect_attempts = max_reconnect_attempts
        self._max_backoff_s = max_backoff_s
        self.max_age_s = max_age_s  # how long the stream keeps messages (None: as it is)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings, store: JobStore) -> OutboxRelay:
        """Build a relay from `MKA_NATS_*` / `MKA_RELAY_*` settings; `MKA_NATS_URL` must be set.

        The stream keeps messages as long as the longest event retention of any project (`max_age`).
        """
        from cluster.bootstrap import build_rules

        if not settings.nats_url:
            raise ValueError("MKA_NATS_URL is not set; events stay in the outbox")
        rules = build_rules(settings)
        days = max(rules.event_days(p) for p in ["", *rules.projects])
        return cls(
            store,
            nats_url=settings.nats_url,
            stream=settings.nats_stream,
            batch_size=settings.relay_batch_size,
            poll_interval_s=settings.relay_poll_interval_s,
            duplicate_window_s=settings.nats_duplicate_window_s,
            max_age_s=days * 86400.0,
        )

    @property
    def connected(self) -> bool:
        """True while the NATS client is open (connected or reconnecting on its own)."""
        return self._nc is not None and not self._nc.is_closed

    async def connect(self) -> None:
        """Connect to NATS and ensure the stream exists; raise `EventBusError` if NATS is unreachable."""
        if self.connected:
            return
        try:
            self._nc = await nats.connect(
                self._nats_url,
                name="mka-relay",
                connect_timeout=self._connect_timeout_s,
                reconnect_time_wait=self._reconnect_time_wait_s,
                max_reconnect_attempts=self._max_reconnect_attempts,
                error_cb=_log_nats_error,
            )
        except _NATS_ERRORS as exc:
            raise EventBusError(f"cannot connect to NATS: {type(exc).__name__}") from exc
        self._js = self._nc.jetstream(timeout=self._ack_timeout_s)
        try:
            await ensure_stream(self._js, name=self._stream, duplicate_window_s=self._duplicate_window_s,
                                max_age_s=self.max_age_s)
        except EventBusError:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the NATS connection (idempotent)."""
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(*_NATS_ERRORS):
                await nc.close()

    async def relay_once(self) -> int:
        """Publish one batch in outbox order, mark the acknowledged rows, return how many were marked.

        Stops at the first failed publish so order holds; the rows acknowledged before it are
        marked, then `EventBusError` is raised. Errors from the store propagate unchanged.
        """
        if not self.connected:
            await self.connect()
        pending = await asyncio.to_thread(self._store.pending_events, limit=self._batch_size)
        acked: list[str] = []
        failure: EventBusError | None = None
        for message in pending:
            try:
                await self._publish(message)
            except EventBusError as exc:
                failure = exc
                break
            acked.append(message.event.id)
        if acked:
            await asyncio.to_thread(self._store.mark_published, acked)
        if failure is not None:
            raise failure
        return len(acked)

    async def drain(self) -> int:
        """Publish until nothing is pending; return how many messages were marked published."""
        total = 0
        while published := await self.relay_once():
            total += published
        return total

    async def run(self, stop: asyncio.Event) -> int:
        """Relay until `stop` is set, backing off (and reconnecting) after errors; return the count."""
        total = 0
        backoff = self._poll_interval_s
        while not stop.is_set():
            try:
                if not self.connected and not await _unless_stopped(stop, self.connect()):
                    break  # stopped while (re)connecting, which can take max_reconnect_attempts tries
                published = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must outlive NATS and database outages
                _log.warning("relay error (%s): retrying in %.1fs", _describe(exc), backoff)
                await _wait(stop, backoff)
                backoff = min(max(backoff, 0.05) * 2, self._max_backoff_s)
                continue
            backoff = self._poll_interval_s
            total += published
            if not published:
                await _wait(stop, self._poll_interval_s)
        return total

    async def _publish(self, message: OutboxMessage) -> None:
        assert self._js is not None
        headers = {**message.headers, "Nats-Msg-Id": message.event.id}
        try:
            await self._js.publish(
                message.subject,
                message.event.model_dump_json().encode(),
                timeout=self._ack_timeout_s,
                stream=self._stream,
                headers=headers,
            )
        except _NATS_ERRORS as exc:
            raise EventBusError(f"publish to {message.subject} failed: {exc}") from exc


async def read_messages(
    nats_url: str, *, stream: str, subject: str, idle_s: float = 1.0, connect_timeout_s: float = 2.0,
) -> list[tuple[str, dict[str, str], bytes]]:
    """Every message of `stream` on `subject` (wildcards allowed), oldest first, as (subject, headers, data).

    Reads with an ephemeral pull consumer that acks nothing and is gone when the connection closes.
    """
    try:
        nc = await nats.connect(nats_url, name="mka-events-reader", connect_timeout=connect_timeout_s,
                                max_reconnect_attempts=0, allow_reconnect=False, error_cb=_log_nats_error)
    except _NATS_ERRORS as exc:
        raise EventBusError(f"cannot connect to NATS: {type(exc).__name__}") from exc
    out: list[tuple[str, dict[str, str], bytes]] = []
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(subject, stream=stream, config=js_api.ConsumerConfig(
            ack_policy=js_api.AckPolicy.NONE, deliver_policy=js_api.DeliverPolicy.ALL, inactive_threshold=60.0))
        while True:
            try:
                batch = await sub.fetch(batch=256, timeout=idle_s)
            except nats.errors.TimeoutError:
                break
            out.extend((m.subject, dict(m.headers or {}), m.data) for m in batch)
    except js_errors.NotFoundError as exc:
        raise EventBusError(f"JetStream has no stream {stream!r}") from exc
    except _NATS_ERRORS as exc:
        raise EventBusError(f"cannot read {subject} from JetStream: {exc}") from exc
    finally:
        with contextlib.suppress(*_NATS_ERRORS):
            await nc.close()
    return out


def run_relay(settings: Settings, store: JobStore, *, once: bool = False) -> int:
    """CLI entry: drain once, or relay until SIGINT/SIGTERM; a no-op returning 0 without `MKA_NATS_URL`."""
    if not settings.nats_url:
        _log.info("MKA_NATS_URL not set: events stay in the outbox (read them with `mka events JOB`)")
        return 0
    relay = OutboxRelay.from_settings(settings, store)
    return asyncio.run(_run(relay, once=once))


async def _run(relay: OutboxRelay, *, once: bool) -> int:
    try:
        if once:
            await relay.connect()
            return await relay.drain()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        return await relay.run(stop)
    finally:
        await relay.close()


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[None]) -> bool:
    """Await `work` unless `stop` is set first (then cancel it); True when `work` completed."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        return False
    task.result()  # re-raise what `work` raised
    return True


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _log_nats_error(exc: Exception) -> None:
    _log.warning("nats: %s", _describe(exc))


def _describe(exc: BaseException) -> str:
    # Bus errors carry only subjects, ids and server text; other errors (SQL) may quote data.
    if isinstance(exc, (EventBusError, nats.errors.Error)) and str(exc):
        return str(exc)
    return type(exc).__name__
