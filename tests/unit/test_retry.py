"""The retry policy on a fake clock: backoff, jitter, retry-after, timeouts, deadline, error classes."""

from __future__ import annotations

import asyncio
import random

import pytest

from actors.retry import Attempt, RetryPolicy
from schemas import InvalidBrief, ProviderError, RetriesExhausted, StepTimeout
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit


class Flaky:
    """Fails with the given errors in turn, then returns 'ok'; records each attempt."""

    def __init__(self, *errors: BaseException, clock: FakeClock | None = None, cost_s: float = 0.0) -> None:
        self.errors = list(errors)
        self.attempts: list[Attempt] = []
        self.clock = clock
        self.cost_s = cost_s

    def __call__(self, attempt: Attempt) -> str:
        self.attempts.append(attempt)
        if self.clock:
            self.clock.advance(self.cost_s)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_exponential_backoff_without_jitter() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=4, base_delay_s=1, jitter=0)
    fn = Flaky(TimeoutError(), ConnectionError(), ProviderError("server_error"))
    assert policy.call(fn, clock=clock) == "ok"
    assert clock.sleeps == [1, 2, 4]
    assert [a.number for a in fn.attempts] == [1, 2, 3, 4]


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=1, multiplier=10, max_delay_s=5, jitter=0)
    assert [policy.backoff_s(n) for n in (1, 2, 3)] == [1, 5, 5]


def test_jitter_stays_within_bounds_and_varies() -> None:
    policy = RetryPolicy(base_delay_s=2, jitter=0.25, rng=random.Random(7))
    delays = [policy.delay_s(1) for _ in range(200)]
    assert all(1.5 <= d <= 2.5 for d in delays)
    assert len({round(d, 6) for d in delays}) > 100


def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.1, jitter=0)
    fn = Flaky(ProviderError("rate_limit", retry_after_s=7.5))
    assert policy.call(fn, clock=clock) == "ok"
    assert clock.sleeps == [7.5]


def test_non_retryable_fails_at_once() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=5)
    fn = Flaky(ProviderError("auth", "bad key"))
    with pytest.raises(ProviderError) as err:
        policy.call(fn, clock=clock)
    assert err.value.kind == "auth"
    assert len(fn.attempts) == 1 and clock.sleeps == []


def test_unknown_exceptions_are_not_retried() -> None:
    fn = Flaky(KeyError("bug"))
    with pytest.raises(KeyError):
        RetryPolicy(max_attempts=3).call(fn, clock=FakeClock())
    assert len(fn.attempts) == 1


def test_validation_errors_are_not_retried() -> None:
    fn = Flaky(InvalidBrief([{"field": "x", "message": "bad"}]))
    with pytest.raises(InvalidBrief):
        RetryPolicy(max_attempts=3).call(fn, clock=FakeClock())


def test_gives_up_after_max_attempts_with_cause() -> None:
    clock = FakeClock()
    fn = Flaky(*[ProviderError("server_error", "boom")] * 5)
    with pytest.raises(RetriesExhausted) as err:
        RetryPolicy(max_attempts=3, base_delay_s=1, jitter=0).call(fn, clock=clock)
    assert isinstance(err.value.__cause__, ProviderError)
    assert "3 attempt" in str(err.value)
    assert len(fn.attempts) == 3 and clock.sleeps == [1, 2]


def test_attempt_timeout_shrinks_to_the_deadline() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=5, base_delay_s=1, jitter=0, attempt_timeout_s=4, deadline_s=10)
    fn = Flaky(TimeoutError(), TimeoutError(), clock=clock, cost_s=3)
    assert policy.call(fn, clock=clock) == "ok"
    # attempt 1 at t=0 gets 4s; attempt 2 at t=4 gets 4s; attempt 3 at t=9 gets the 1s left.
    assert [a.timeout_s for a in fn.attempts] == [4, 4, 1]


def test_no_wait_runs_past_the_deadline() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=10, base_delay_s=1, jitter=0, deadline_s=5)
    fn = Flaky(*[TimeoutError()] * 10, clock=clock, cost_s=1)
    with pytest.raises(StepTimeout) as err:
        policy.call(fn, clock=clock)
    assert clock.monotonic() <= 5
    assert "deadline of 5s" in str(err.value)


def test_retry_after_beyond_deadline_fails_now() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, deadline_s=10)
    fn = Flaky(ProviderError("rate_limit", retry_after_s=60))
    with pytest.raises(StepTimeout) as err:
        policy.call(fn, clock=clock)
    assert clock.sleeps == []
    assert isinstance(err.value.__cause__, ProviderError)


def test_async_call_retries_and_cuts_off_hung_attempts() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_attempts=3, base_delay_s=1, jitter=0, attempt_timeout_s=0.05)
    calls: list[int] = []

    async def fn(attempt: Attempt) -> str:
        calls.append(attempt.number)
        if attempt.number == 1:
            await asyncio.sleep(10)  # hangs: the policy must cut it off
        if attempt.number == 2:
            raise ProviderError("rate_limit", retry_after_s=3)
        return "ok"

    assert asyncio.run(policy.acall(fn, clock=clock)) == "ok"
    assert calls == [1, 2, 3]
    assert clock.sleeps == [1, 3]


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=1.5)
