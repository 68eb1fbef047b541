"""Daily partitions keyed on each repo's lastModified day (UTC), from when GGUF appeared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from ggufsync_assets.defs.tags import RANGE_END_TAG, RANGE_START_TAG
from ggufsync_assets.sync.window import Window

FIRST_DAY = "2023-08-01"
DAILY = dg.DailyPartitionsDefinition(start_date=FIRST_DAY, end_offset=1)


def all_keys() -> list[str]:
    return list(DAILY.get_partition_keys())


def window_of(first_key: str, last_key: str) -> Window:
    """The lastModified span of a partition range; the first partition also holds everything older,
    and the newest one everything up to now (a repo edited a second ago is in today's partition)."""
    keys = all_keys()
    start = None if first_key == keys[0] else _day(first_key)
    end = None if last_key == keys[-1] else _day(last_key) + timedelta(days=1)
    return Window(start, end)


def keys_for_hours(hours: int, now: datetime) -> tuple[str, str]:
    """The partition range that covers the last `hours` hours."""
    keys = all_keys()
    first = (now - timedelta(hours=hours)).astimezone(UTC).strftime("%Y-%m-%d")
    return max(first, keys[0]), keys[-1]


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    return {RANGE_START_TAG: first_key, RANGE_END_TAG: last_key}


def is_complete(first_key: str, last_key: str) -> bool:
    keys = all_keys()
    return first_key == keys[0] and last_key == keys[-1]


def _day(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=UTC)
