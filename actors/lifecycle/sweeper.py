"""The sweeper: runs the sweep on a schedule of an injected clock, one run at a time (the `mka-sweeper` actor's core)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from actors.clock import Clock, SystemClock
from actors.job_store import JobStore
from actors.lifecycle.rules import bucket_expiry_days
from actors.lifecycle.sweep import SpanPurge, SweepResult, sweep
from actors.object_store import ObjectStore
from actors.periodic import Periodic
from schemas import MkaError
from schemas.lifecycle import CleanupRules

__all__ = ["Sweeper"]

log = logging.getLogger("mka.sweeper")


class Sweeper:
    """Applies the cleanup rules every `interval_s` seconds of `clock` (first at start) and on demand.

    Runs never overlap: a run asked for while one is going waits for it. A run that raises is
    logged by the schedule and the next one finishes its work (every sweep step is idempotent).
    """

    def __init__(
        self, store: JobStore, objects: ObjectStore, rules: CleanupRules, *, interval_s: float,
        clock: Clock | None = None, on_sweep: Callable[[SweepResult], None] | None = None,
        relayed: bool = True, spans: SpanPurge | None = None,
    ) -> None:
        """`relayed` and `spans` are the sweep's (`actors.lifecycle.sweep.sweep`)."""
        self.store, self.objects, self.rules = store, objects, rules
        self._relayed, self._spans = relayed, spans
        self.clock = clock or SystemClock()
        self.runs = 0
        self._on_sweep = on_sweep
        self._lock = threading.Lock()
        self.schedule = Periodic(lambda now: self.run(now), interval_s=interval_s, clock=self.clock, name="mka-sweeper")

    def start(self) -> Sweeper:
        """Install the store's own expiry (S3 bucket lifecycle) from the rules, then start the schedule; return self."""
        try:
            self.objects.apply_lifecycle(bucket_expiry_days(self.rules))
        except MkaError as exc:  # the backstop is optional; the sweeper itself must run (PII retention depends on it)
            log.warning("could not install the bucket lifecycle rules: %s", exc.message)
        self.schedule.start()
        return self

    def stop(self) -> None:
        """Stop the schedule (a run in progress finishes)."""
        self.schedule.stop()

    def run(self, now: datetime | None = None, *, dry_run: bool = False) -> SweepResult:
        """One sweep as of `now` (default: the clock's now)."""
        with self._lock:
            result = sweep(self.store, self.objects, now or self.clock.now(), self.rules, dry_run=dry_run,
                           clock=self.clock, relayed=self._relayed, spans=self._spans)
            self.runs += 1
        if self._on_sweep is not None:
            self._on_sweep(result)
        return result
