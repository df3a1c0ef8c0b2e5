"""Fakes that subclass the real interfaces, for unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from actors.clock import Clock


class FakeClock(Clock):
    """A clock that moves only when told to (or when code sleeps on it); records every sleep."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self._t = 0.0
        self._start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        return self._t

    def now(self) -> datetime:
        """Return the fake wall time."""
        return self._start + timedelta(seconds=self._t)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._t += seconds

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance instead of waiting."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        """Record the sleep and advance instead of waiting."""
        self.sleep(seconds)
