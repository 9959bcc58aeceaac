"""Time, passed in: the real monotonic clock for live runs, a fake one for tests and scripts."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since some fixed start."""

    def wait_until(self, seconds: float) -> None:
        """Returns when now() has reached `seconds` (at once if it has)."""


class MonotonicClock:
    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def wait_until(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds - self.now()))


class FakeClock:
    """A clock that moves only when told: tests advance it in milliseconds."""

    def __init__(self, start_s: float = 0.0) -> None:
        self._now = start_s

    def now(self) -> float:
        return self._now

    def advance_ms(self, milliseconds: float) -> float:
        self._now += milliseconds / 1000
        return self._now

    def wait_until(self, seconds: float) -> None:
        """Waiting takes no time: the clock jumps there."""
        self._now = max(self._now, seconds)

    def set(self, seconds: float) -> None:
        if seconds < self._now:
            raise ValueError("a clock does not go back")
        self._now = seconds
