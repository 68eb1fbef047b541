"""Seeded, bounded fault injection, so clients can be tested against a Hub that misbehaves.

Two sources, checked in this order: scripted faults (`script(kind, count, ...)`: the next matching
requests get exactly that fault) and random faults (`rate`, drawn from a seeded generator, capped by
`limit`). Both can be changed while the server runs.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import EllipsisType


class FaultKind(StrEnum):
    ERROR = "error"  # a 500, 502, 503 or 504 answer
    SLOW = "slow"  # the normal answer, after a delay
    DROP = "drop"  # the connection closes without an answer
    TRUNCATE = "truncate"  # full Content-Length announced, part of the body sent, connection closed
    MALFORMED = "malformed"  # valid JSON in which one record is broken


ERROR_STATUSES = (500, 502, 503, 504)


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; `pick` chooses deterministically what to break or which status to use."""

    kind: FaultKind
    status: int = 500
    delay: float = 0.0
    pick: int = 0


@dataclass(slots=True)
class _Script:
    kind: FaultKind
    remaining: int
    path_prefix: str
    host: str | None
    status: int | None
    delay: float | None
    query: frozenset[tuple[str, str]]


class FaultInjector:
    """Decides, per request, whether and how to misbehave."""

    def __init__(
        self,
        rate: float = 0.0,
        seed: int = 0,
        *,
        kinds: Iterable[FaultKind | str] | None = None,
        slow_delay: float = 1.0,
        hosts: Iterable[str] = ("api",),
        limit: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []
        self.injected = 0
        self.configure(
            rate=rate,
            seed=seed,
            kinds=kinds or list(FaultKind),
            slow_delay=slow_delay,
            hosts=hosts,
            limit=limit,
        )

    def configure(
        self,
        *,
        rate: float | None = None,
        seed: int | None = None,
        kinds: Iterable[FaultKind | str] | None = None,
        slow_delay: float | None = None,
        hosts: Iterable[str] | None = None,
        limit: EllipsisType | int | None = ...,
    ) -> None:
        """Change the random faults; arguments left out keep their value (`limit=None`: no cap)."""
        with self._lock:
            if rate is not None:
                if not 0.0 <= rate <= 1.0:
                    raise ValueError("fault rate must be between 0 and 1")
                self.rate = rate
            if seed is not None:
                self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
            if kinds is not None:
                self.kinds = tuple(FaultKind(kind) for kind in kinds)
            if slow_delay is not None:
                self.slow_delay = min(max(slow_delay, 0.0), 60.0)
            if hosts is not None:
                self.hosts = frozenset(hosts)
            if limit is not Ellipsis:
                self.limit = limit

    def script(
        self,
        kind: FaultKind | str,
        count: int = 1,
        *,
        path_prefix: str = "",
        host: str | None = "api",
        status: int | None = None,
        delay: float | None = None,
        query: Mapping[str, str] | None = None,
    ) -> None:
        """The next `count` requests whose path starts with `path_prefix` (on `host`, None = any),
        whose query holds each of `query`'s parameters, and that this kind can apply to get fault
        `kind`. `query` picks one listing of several paged side by side (`{"filter": "gguf"}`)."""
        fault_kind = FaultKind(kind)
        if status is not None and status not in ERROR_STATUSES:
            raise ValueError(f"error status must be one of {ERROR_STATUSES}")
        wanted = frozenset((query or {}).items())
        with self._lock:
            self._scripts.append(_Script(fault_kind, count, path_prefix, host, status, delay, wanted))

    def clear(self) -> None:
        """Drop pending scripts and turn random faults off."""
        with self._lock:
            self._scripts.clear()
            self.rate = 0.0

    def decide(
        self,
        host: str,
        path: str,
        applicable: Collection[FaultKind],
        query: Collection[tuple[str, str]] = (),
    ) -> Fault | None:
        with self._lock:
            for entry in self._scripts:
                if (
                    entry.kind in applicable
                    and path.startswith(entry.path_prefix)
                    and entry.host in (None, host)
                    and entry.query <= set(query)
                ):
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._scripts.remove(entry)
                    self.injected += 1
                    status = entry.status or ERROR_STATUSES[0]
                    delay = self.slow_delay if entry.delay is None else entry.delay
                    return Fault(entry.kind, status, delay, self._random.getrandbits(30))
            if self.rate <= 0 or host not in self.hosts:
                return None
            if self.limit is not None and self.injected >= self.limit:
                return None
            if self._random.random() >= self.rate:
                return None
            kinds = [kind for kind in self.kinds if kind in applicable]
            if not kinds:
                return None
            self.injected += 1
            return Fault(
                self._random.choice(kinds),
                self._random.choice(ERROR_STATUSES),
                self.slow_delay,
                self._random.getrandbits(30),
            )
