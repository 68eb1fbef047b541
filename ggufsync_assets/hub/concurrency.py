"""A concurrency limit that can move: at most max_concurrent_requests in flight, fewer when the Hub struggles.

With performance.enable_adaptive_parameters the limit follows additive-increase /
multiplicative-decrease, as TCP does: a failed or slow request halves it, a run of healthy ones
raises it by one, never above the configured maximum nor below one.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

SLOW_SECONDS = 5.0


class AdaptiveConcurrency:
    def __init__(self, maximum: int, *, adaptive: bool) -> None:
        self.maximum = maximum
        self.adaptive = adaptive
        self.limit = maximum
        self.in_flight = 0
        self.peak_in_flight = 0
        self._healthy_streak = 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def record(self, *, healthy: bool, seconds: float) -> None:
        if not self.adaptive:
            return
        if not healthy or seconds > SLOW_SECONDS:
            self.limit = max(1, self.limit // 2)
            self._healthy_streak = 0
            return
        self._healthy_streak += 1
        if self._healthy_streak >= self.limit and self.limit < self.maximum:
            self.limit += 1
            self._healthy_streak = 0
