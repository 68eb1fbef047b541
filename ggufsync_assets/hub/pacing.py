"""Request pacing: our own limits, and the budget the server advertises.

Three gates, all awaited before every request:
- rate_limiting.requests_per_second and requests_per_hour (leaky buckets from aiolimiter);
- the server's RateLimit header (`"api";r=<remaining>;t=<seconds to reset>`): when the caller has
  declared the work ahead (`expect`) and what remains of the window covers it, requests go at our
  own pace; otherwise what remains is spread evenly over the time left, so a long sync never runs
  into the quota (and, once a window is spent, nothing is sent until it resets);
- a pause after a 429, until Retry-After (or the window's reset) has passed, shared by every task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from aiolimiter import AsyncLimiter
from huggingface_hub.utils import RateLimitInfo, parse_ratelimit_headers


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415 - rare HTTP-date form

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class _Window:
    """What the server last told us about one rate-limit bucket, and what we sent since."""

    def __init__(self, budget: RateLimitInfo, seen_at: float, sent_since: int) -> None:
        self.budget = budget
        self.reset_at = seen_at + budget.reset_in_seconds
        self.sent_since = sent_since
        self.last_sent = 0.0

    def wait(self, now: float, ahead: int) -> float | None:
        """Seconds to wait before the next request when `ahead` requests are declared still to come;
        None once the window has rolled over."""
        if now >= self.reset_at:
            return None
        left = self.budget.remaining - self.sent_since
        if left <= 0:
            return self.reset_at - now + 0.05
        if 0 < ahead <= left:
            return 0.0
        return max(0.0, self.last_sent + (self.reset_at - now) / left - now)


class RequestPacer:
    def __init__(
        self,
        requests_per_second: float,
        requests_per_hour: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # capacity 1: requests are evenly spaced, never bunched into a burst at the start of a second
        self._per_second = AsyncLimiter(1, 1 / requests_per_second)
        self._per_hour = AsyncLimiter(requests_per_hour, 3600)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._paused_until = 0.0
        self._windows: dict[str, _Window] = {}
        self._in_flight: dict[str, int] = {}
        self._ahead: dict[str, int] = {}

    def expect(self, bucket: str, requests: int) -> None:
        """Declare `requests` more to come in `bucket`: while the server's budget covers them, they
        are not spread out."""
        self._ahead[bucket] = self._ahead.get(bucket, 0) + requests

    async def acquire(self, bucket: str) -> None:
        await self._per_hour.acquire()
        await self._per_second.acquire()
        async with self._lock:  # one task at a time takes its slot, so slots never collide
            while (wait := self.delay(bucket)) > 0:
                await asyncio.sleep(wait)
            window = self._windows.get(bucket)
            if window is not None:
                window.last_sent = self._clock()
                window.sent_since += 1
            self._in_flight[bucket] = self._in_flight.get(bucket, 0) + 1
            self._ahead[bucket] = max(0, self._ahead.get(bucket, 0) - 1)

    def release(self, bucket: str) -> None:
        self._in_flight[bucket] -= 1

    def delay(self, bucket: str) -> float:
        """Seconds the next request to `bucket` would have to wait now."""
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        window = self._windows.get(bucket)
        if window is None:
            return 0.0
        wait = window.wait(now, self._ahead.get(bucket, 0))
        if wait is None:
            del self._windows[bucket]  # a fixed window rolled over; the next answer tells us more
            return 0.0
        return wait

    def observe(self, bucket: str, headers: Mapping[str, str]) -> None:
        budget = parse_ratelimit_headers(headers)
        if budget is not None:
            # requests still in flight (other than this one) may not be counted in `remaining` yet
            in_flight_others = max(0, self._in_flight.get(bucket, 0) - 1)
            previous = self._windows.get(bucket)
            window = _Window(budget, self._clock(), in_flight_others)
            window.last_sent = previous.last_sent if previous else 0.0
            self._windows[bucket] = window

    def pause(self, seconds: float) -> None:
        """After a 429: nobody sends until the server said it is worth trying again."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
