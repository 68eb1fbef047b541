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
    """Bounded, thread-safe record of requests to both hosts, oldest first."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
