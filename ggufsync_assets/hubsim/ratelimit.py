"""Fixed-window rate limits per client and bucket, announced with the IETF `RateLimit` headers.

The Hub counts API calls ("api") and file resolutions ("resolvers") separately, per token or, for
anonymous calls, per IP; every response says how much of the window is left, and a 429 says when to
come back. huggingface_hub reads exactly these headers to decide how long to sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    """`quota` requests per `window` seconds."""

    quota: int
    window: float

    def __post_init__(self) -> None:
        if self.quota < 1 or self.window <= 0:
            raise ValueError("a rate limit needs a positive quota and window")


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """The outcome of counting one request."""

    bucket: str
    allowed: bool
    remaining: int
    reset: int
    policy: RateLimitPolicy

    def headers(self, retry_after: bool) -> list[tuple[str, str]]:
        headers = [
            ("RateLimit", f'"{self.bucket}";r={self.remaining};t={self.reset}'),
            (
                "RateLimit-Policy",
                f'"fixed window";"{self.bucket}";q={self.policy.quota};w={math.ceil(self.policy.window)}',
            ),
        ]
        if not self.allowed and retry_after:
            headers.append(("Retry-After", str(self.reset)))
        return headers


class RateLimiter:
    """Counts requests per (bucket, client) in windows that start at the client's first request."""

    def __init__(
        self, policies: dict[str, RateLimitPolicy], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._policies = dict(policies)
        self._clock = clock
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def configure(self, bucket: str, policy: RateLimitPolicy) -> None:
        """Change a bucket's policy at runtime; running windows restart."""
        with self._lock:
            self._policies[bucket] = policy
            self._windows = {k: v for k, v in self._windows.items() if k[0] != bucket}

    def reset(self) -> None:
        """Forget every client's count, as if all windows had just ended."""
        with self._lock:
            self._windows.clear()

    def hit(self, bucket: str, client: str) -> RateLimitDecision:
        now = self._clock()
        with self._lock:
            policy = self._policies[bucket]
            start, count = self._windows.get((bucket, client), (now, 0))
            if now >= start + policy.window:
                start, count = now, 0
            count += 1
            self._windows[(bucket, client)] = (start, count)
        reset = max(1, math.ceil(policy.window - (now - start)))
        return RateLimitDecision(bucket, count <= policy.quota, max(policy.quota - count, 0), reset, policy)
