"""Injected time: the clock interface and the system clock (tests use a fake that they advance)."""

from __future__ import annotations

import abc
import asyncio
import time
from datetime import datetime, timezone

__all__ = ["Clock", "SystemClock"]


class Clock(abc.ABC):
    """Where code reads time and waits; retries, deadlines and TTLs take one."""

    @abc.abstractmethod
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""

    @abc.abstractmethod
    def now(self) -> datetime:
        """Current UTC time."""

    @abc.abstractmethod
    def sleep(self, seconds: float) -> None:
        """Block for `seconds`."""

    @abc.abstractmethod
    async def asleep(self, seconds: float) -> None:
        """Wait for `seconds` without blocking the event loop."""


class SystemClock(Clock):
    """The real clock."""

    def monotonic(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        """Sleep for real, asynchronously."""
        await asyncio.sleep(max(0.0, seconds))
