"""A task that runs every `interval_s` seconds of an injected clock, first when it starts.

`tick()` runs the task when it is due, on the clock's monotonic time; tests advance a fake clock
and tick. A long-running process calls `start()`: a daemon thread ticks and then waits until the
next run is due, on an event, so `stop()` returns at once and `wake()` makes it look at the clock
again (after a fake clock moved). A failing run is reported to `on_error` and the schedule goes on.

Example:
    >>> from actors.clock import SystemClock
    >>> runs = []
    >>> hourly = Periodic(runs.append, interval_s=3600, clock=SystemClock())
    >>> hourly.tick(), hourly.tick(), len(runs)
    (True, False, 1)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from actors.clock import Clock, SystemClock

__all__ = ["Periodic"]

log = logging.getLogger("mka.periodic")


def _log_error(exc: BaseException) -> None:
    log.error("periodic task failed: %s", type(exc).__name__)  # the type only: messages may name data


class Periodic:
    """Runs `task(now)` every `interval_s` seconds of `clock`; the next run is due `interval_s` after a run starts."""

    def __init__(
        self,
        task: Callable[[datetime], object],
        *,
        interval_s: float,
        clock: Clock | None = None,
        name: str = "mka-periodic",
        on_error: Callable[[BaseException], None] = _log_error,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s}")
        self.task = task
        self.interval_s = interval_s
        self.clock = clock or SystemClock()
        self.name = name
        self.runs = 0
        self._on_error = on_error
        self._next: float | None = None  # monotonic time of the next run; None: the first tick runs
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def seconds_until_due(self) -> float:
        """Seconds of the clock until the next run (0 when due)."""
        return 0.0 if self._next is None else max(0.0, self._next - self.clock.monotonic())

    def tick(self) -> bool:
        """Run the task if it is due; tell whether it ran."""
        if self.seconds_until_due() > 0:
            return False
        self._next = self.clock.monotonic() + self.interval_s
        try:
            self.task(self.clock.now())
        except Exception as exc:  # noqa: BLE001 - one failed run must not end the schedule
            self._on_error(exc)
        self.runs += 1
        return True

    def start(self) -> Periodic:
        """Tick on a daemon thread until `stop()`; return self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Make the thread look at the clock now (tests call it after advancing a fake clock)."""
        self._wake.set()

    def stop(self, timeout_s: float | None = 10.0) -> None:
        """Stop the thread (a run in progress finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while True:
            self._wake.clear()  # cleared before the tick: a wake during the tick is not lost
            if self._stop.is_set():
                return
            self.tick()
            self._wake.wait(self.seconds_until_due())
