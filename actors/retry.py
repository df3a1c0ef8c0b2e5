"""One retry policy for every step: attempts, exponential backoff with jitter, timeouts, deadline, retry-after."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from actors.clock import Clock, SystemClock
from schemas import MkaError, RetriesExhausted, StepTimeout

__all__ = ["Attempt", "RetryPolicy"]

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt:
    """What one attempt is given: its number (from 1) and how long it may take."""

    number: int
    timeout_s: float | None


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """When to retry, how long to wait and when to give up.

    An error is retried when it is an `MkaError` with `retryable=True` or an instance of
    `retry_on`; anything else fails at once. A `retry_after_s` on the error (rate limits) is
    honoured: the wait is at least that long. No wait or attempt runs past `deadline_s`.

    Example:
        >>> policy = RetryPolicy(max_attempts=3, base_delay_s=0.1, jitter=0.0)
        >>> [policy.backoff_s(n) for n in (1, 2, 3)]
        [0.1, 0.2, 0.4]
    """

    max_attempts: int = 3
    base_delay_s: float = 0.5
    multiplier: float = 2.0
    max_delay_s: float = 30.0
    jitter: float = 0.25  # ± fraction of the delay, so synchronized clients spread out
    attempt_timeout_s: float | None = None
    deadline_s: float | None = None
    retry_on: tuple[type[BaseException], ...] = (TimeoutError, ConnectionError)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def backoff_s(self, failed_attempt: int) -> float:
        """Delay after the given failed attempt (1-based), before jitter."""
        return min(self.max_delay_s, self.base_delay_s * self.multiplier ** (failed_attempt - 1))

    def is_retryable(self, exc: BaseException) -> bool:
        """True when another attempt may succeed."""
        if isinstance(exc, MkaError):
            return exc.retryable
        return isinstance(exc, self.retry_on)

    def delay_s(self, failed_attempt: int, exc: BaseException | None = None) -> float:
        """Wait before the next attempt: jittered backoff, at least the error's retry-after."""
        base = self.backoff_s(failed_attempt)
        delay = base * (1 + self.rng.uniform(-self.jitter, self.jitter)) if self.jitter else base
        retry_after = getattr(exc, "retry_after_s", None)
        if retry_after is not None:
            delay = max(delay, float(retry_after))
        return max(0.0, delay)

    def _attempt_timeout(self, elapsed: float) -> float | None:
        if self.deadline_s is None:
            return self.attempt_timeout_s
        left = self.deadline_s - elapsed
        return left if self.attempt_timeout_s is None else min(self.attempt_timeout_s, left)

    def _next_wait(self, number: int, exc: BaseException, elapsed: float) -> float:
        """Return the wait before the next attempt, or raise when there will be none."""
        if not self.is_retryable(exc):
            raise exc
        if number >= self.max_attempts:
            raise RetriesExhausted(f"gave up after {number} attempt(s): {_describe(exc)}") from exc
        wait = self.delay_s(number, exc)
        if self.deadline_s is not None and elapsed + wait >= self.deadline_s:
            raise StepTimeout(
                f"deadline of {self.deadline_s:g}s leaves no room for attempt {number + 1}: {_describe(exc)}"
            ) from exc
        return wait

    def call(self, fn: Callable[[Attempt], T], *, clock: Clock | None = None) -> T:
        """Run `fn` until it succeeds or the policy gives up; `fn` must honour `attempt.timeout_s`."""
        clock = clock or SystemClock()
        start = clock.monotonic()
        number = 0
        while True:
            number += 1
            try:
                return fn(Attempt(number, self._attempt_timeout(clock.monotonic() - start)))
            except Exception as exc:  # noqa: BLE001 - classified by the policy
                clock.sleep(self._next_wait(number, exc, clock.monotonic() - start))

    async def acall(self, fn: Callable[[Attempt], Awaitable[T]], *, clock: Clock | None = None) -> T:
        """Async `call`; each attempt is also cut off at its timeout with `asyncio.wait_for`."""
        clock = clock or SystemClock()
        start = clock.monotonic()
        number = 0
        while True:
            number += 1
            attempt = Attempt(number, self._attempt_timeout(clock.monotonic() - start))
            try:
                return await asyncio.wait_for(fn(attempt), timeout=attempt.timeout_s)
            except asyncio.TimeoutError as exc:
                err: Exception = StepTimeout(f"attempt {number} ran past {attempt.timeout_s:g}s")
                err.__cause__ = exc
                await clock.asleep(self._next_wait(number, err, clock.monotonic() - start))
            except Exception as exc:  # noqa: BLE001 - classified by the policy
                await clock.asleep(self._next_wait(number, exc, clock.monotonic() - start))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
