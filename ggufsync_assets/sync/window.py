"""The span of lastModified a sync covers: a partition range, or everything for a full pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    """lastModified from `start` (inclusive, None = the beginning) to `end` (exclusive, None = now)."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)
