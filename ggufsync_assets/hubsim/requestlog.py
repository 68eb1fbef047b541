"""What the simulator was asked and what it answered, for tests to assert on (never any token)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as served: `status` is None when the connection was dropped without an answer."""

    time: datetime
    host: str
    method: str
    path: str
    query: dict[str, list[str]]
    status: int | None
    authorized: bool
    response_bytes: int
    fault: str | None


class RequestLog:
    """Bounded, thread-safe record of requests to both hosts, oldest first.

    A request is recorded once its last byte is written, which can be a moment after the client
    has read it; so reading the log first waits (briefly) for requests still being served.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=capacity)
        self._serving = 0
        self._changed = threading.Condition()

    def begin(self) -> None:
        """A request is being served; `append` its record when done."""
        with self._changed:
            self._serving += 1

    def append(self, record: RequestRecord) -> None:
        with self._changed:
            self._records.append(record)
            self._serving -= 1
            self._changed.notify_all()

    def records(self, settle: float = 5.0) -> list[RequestRecord]:
        """Every record, after waiting up to `settle` seconds for requests still being served."""
        with self._changed:
            self._changed.wait_for(lambda: self._serving <= 0, timeout=settle)
            return list(self._records)

    def clear(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._serving <= 0, timeout=5.0)
            self._records.clear()
