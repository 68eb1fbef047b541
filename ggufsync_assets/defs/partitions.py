"""Daily partitions keyed on each repo's lastModified day (UTC), from when GGUF appeared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from ggufsync_assets.defs.tags import RANGE_END_TAG, RANGE_START_TAG
from ggufsync_assets.sync.window import Window

FIRST_DAY = "2023-08-01"
DAILY = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, end_offset=1)


def last_key() -> str:
    """Today's partition (UTC); working it out costs a fraction of listing the 1,200-odd keys."""
    key = DAILY.get_last_partition_key()
    assert key is not None, "the partitions start in the past"
    return key


def window_of(first: str, last: str) -> Window:
    """The lastModified span of a partition range; the first partition also holds everything older,
    and the newest one everything up to now (a repo edited a second ago is in today's partition)."""
    start = None if first == FIRST_DAY else _day(first)
    end = None if last == last_key() else _day(last) + timedelta(days=1)
    return Window(start, end)


def keys_for_hours(hours: int, now: datetime) -> tuple[str, str]:
    """The partition range that covers the last `hours` hours."""
    first = (now - timedelta(hours=hours)).astimezone(UTC).strftime("%Y-%m-%d")
    return max(first, FIRST_DAY), last_key()


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    return {RANGE_START_TAG: first_key, RANGE_END_TAG: last_key}


def is_complete(first: str, last: str) -> bool:
    return first == FIRST_DAY and last == last_key()


def _day(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=UTC)
