"""Counting what the client did, and telling a watcher at a steady pace.

Two watchers, at two paces: the run's log gets a report every
monitoring.progress_report_interval_seconds (a log read later needs few), a live view (a terminal)
one every LIVE_SECONDS; both get a final one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class HubStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    failures: int = 0
    bytes_received: int = 0
    pages: int = 0
    records: int = 0
    repos_done: int = 0
    repos_total: int = 0
    """Repos a step has finished, of those it declared (0: a step that cannot know, as the listing)."""
    elapsed_seconds: float = 0.0

    def describe(self, step: str) -> str:
        """One progress line: repos done of the total and the time left at the pace so far (when
        the step knows its total), requests and their rate, retries and 429s."""
        seconds = self.elapsed_seconds
        rate = self.requests / seconds if seconds > 0 else 0.0
        done = f"{self.repos_done}/{self.repos_total} repos, " if self.repos_total else ""
        left = ""
        if self.repos_total and self.repos_done:
            remaining = seconds / self.repos_done * (self.repos_total - self.repos_done)
            left = f", about {remaining:.0f} s left"
        return (
            f"{step}: {done}{self.requests} requests ({rate:.1f}/s), {self.records} records, "
            f"{self.retries} retries, {self.rate_limited} rate-limited, {seconds:.0f} s{left}"
        )


ProgressCallback = Callable[[HubStats], None]
LIVE_SECONDS = 5.0


class ProgressTracker:
    def __init__(
        self,
        interval_seconds: float,
        callback: ProgressCallback | None = None,
        *,
        live: ProgressCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval_seconds
        self._callback = callback
        self._live = live
        self._clock = clock
        self._started = clock()
        self._last_report = self._last_live = self._started
        self._stats = HubStats()

    def add(self, **increments: int) -> None:
        values = {name: getattr(self._stats, name) + amount for name, amount in increments.items()}
        self._stats = replace(self._stats, **values)
        now = self._clock()
        if self._callback and now - self._last_report >= self._interval:
            self._last_report = now
            self._callback(self.snapshot())
        if self._live and now - self._last_live >= LIVE_SECONDS:
            self._last_live = now
            self._live(self.snapshot())

    def report(self) -> None:
        """The final report, to both watchers."""
        self._last_report = self._last_live = self._clock()
        for watcher in (self._callback, self._live):
            if watcher:
                watcher(self.snapshot())

    def snapshot(self) -> HubStats:
        return replace(self._stats, elapsed_seconds=self._clock() - self._started)
