"""Per-credential limits (pure, clock injected): a token bucket for requests and a cap on open event streams."""

from __future__ import annotations

import math
import threading
from actors.clock import Clock, SystemClock
from schemas import RateLimited

__all__ = ["RateLimiter", "StreamCap"]


class RateLimiter:
    """A token bucket per caller: `per_minute` tokens refill steadily, up to `burst` at once.

    Example:
        >>> clock = FakeClock(start)                                  # doctest: +SKIP
        >>> limiter = RateLimiter(per_minute=60, burst=2, clock=clock)  # doctest: +SKIP
        >>> limiter.take("k"); limiter.take("k"); limiter.take("k")     # doctest: +SKIP
        Traceback (most recent call last):
        RateLimited: ... retry after 1 s
    """

    def __init__(self, *, per_minute: float, burst: int, clock: Clock | None = None, max_callers: int = 50_000) -> None:
        """`per_minute` ≤ 0 turns the limit off; at most about `max_callers` buckets are kept."""
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.max_callers = max_callers
        self._pruned_at = float("-inf")
        self._clock = clock or SystemClock()
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, caller: str, *, spend: bool = True) -> None:
        """Spend one token of `caller`'s bucket, or raise `RateLimited` with the wait for the next one.

        With `spend=False` only check that a token is there (failed sign-ins are charged after the fact).
        """
        if self.rate <= 0:
            return
        now = self._clock.now().timestamp()
        with self._lock:
            tokens, at = self._buckets.get(caller, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if not spend and tokens >= 1.0:
                return
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                wait = float(max(1, math.ceil((1.0 - tokens) / self.rate)))
                raise RateLimited(f"too many requests: retry after {wait:.0f} s", retry_after_s=wait)
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_callers and now - self._pruned_at > 10.0:
                self._prune(now)

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled (they carry no state); past the cap, the least recently used go."""
        self._pruned_at = now
        self._buckets = {k: (t, at) for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate < self.burst}
        if len(self._buckets) > self.max_callers:
            newest = sorted(self._buckets.items(), key=lambda item: item[1][1])[-self.max_callers // 2:]
            self._buckets = dict(newest)


    def refund(self, caller: str) -> None:
        """Give back a token spent on something that turned out fine (up to the burst)."""
        if self.rate <= 0:
            return
        with self._lock:
            if caller in self._buckets:
                tokens, at = self._buckets[caller]
                self._buckets[caller] = (min(float(self.burst), tokens + 1.0), at)


class StreamCap:
    """At most `per_caller` open event streams per caller.

    A hold older than `max_age_s` no longer counts: a stream the server never started (the client left first)
    cannot block its caller for good.
    """

    def __init__(self, *, per_caller: int, max_age_s: float = 3660.0, clock: Clock | None = None) -> None:
        """`max_age_s` is the longest a stream may run plus a margin."""
        self.per_caller = per_caller
        self.max_age_s = max_age_s
        self._clock = clock or SystemClock()
        self._open: dict[str, dict[int, float]] = {}
        self._next = 0
        self._lock = threading.Lock()

    def acquire(self, caller: str) -> int:
        """Count one more open stream of `caller` and return its token; `RateLimited` when the cap is reached."""
        now = self._clock.now().timestamp()
        with self._lock:
            held = {t: at for t, at in self._open.get(caller, {}).items() if now - at < self.max_age_s}
            if len(held) >= self.per_caller:
                raise RateLimited(f"at most {self.per_caller} open event streams per credential", retry_after_s=5.0)
            self._next += 1
            held[self._next] = now
            self._open[caller] = held
            return self._next

    def release(self, caller: str, token: int) -> None:
        """The stream `token` of `caller` closed."""
        with self._lock:
            held = self._open.get(caller, {})
            held.pop(token, None)
            if not held:
                self._open.pop(caller, None)

    def open(self, caller: str) -> int:
        """How many streams `caller` has open."""
        with self._lock:
            return len(self._open.get(caller, {}))
