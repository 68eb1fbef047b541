"""Daily partitions on lastModified: the time window of a partition range, and ranges by hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import dagster as dg
import pytest

from ggufsync_assets.defs.partitions import (
    DAILY,
    FIRST_DAY,
    is_complete,
    keys_for_hours,
    range_tags,
    window_of,
)
from ggufsync_assets.defs.tags import RANGE_END_TAG, RANGE_START_TAG


def day(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=UTC)


NOW = datetime(2025, 3, 10, 23, 59, 59, tzinfo=UTC)
"""A second before midnight UTC."""


@pytest.fixture(autouse=True)
def now() -> Iterator[datetime]:
    """The moment every test here runs at: Dagster's partitions end on its day, whatever the clock says."""
    with dg.partition_loading_context(effective_dt=NOW):
        yield NOW


@pytest.fixture
def keys(now: datetime) -> list[str]:
    return DAILY.get_partition_keys()


def test_partitions_run_from_the_first_gguf_day_to_today(keys: list[str], now: datetime) -> None:
    assert keys[0] == FIRST_DAY
    assert keys[-1] == now.strftime("%Y-%m-%d") == "2025-03-10"


def test_a_range_from_the_first_partition_has_no_start(keys: list[str]) -> None:
    window = window_of(keys[0], "2024-01-31")
    assert window.start is None
    assert window.end == datetime(2024, 2, 1, tzinfo=UTC)
    assert window.contains(datetime(2015, 1, 1, tzinfo=UTC))


def test_a_range_to_the_last_partition_has_no_end(keys: list[str], now: datetime) -> None:
    window = window_of("2024-01-01", keys[-1])
    assert window.start == datetime(2024, 1, 1, tzinfo=UTC)
    assert window.end is None
    assert window.contains(now + timedelta(minutes=5))


def test_the_complete_range_is_unbounded(keys: list[str]) -> None:
    window = window_of(keys[0], keys[-1])
    assert (window.start, window.end) == (None, None)


def test_one_middle_partition_is_exactly_its_day() -> None:
    window = window_of("2024-03-10", "2024-03-10")
    assert (window.start, window.end) == (
        datetime(2024, 3, 10, tzinfo=UTC),
        datetime(2024, 3, 11, tzinfo=UTC),
    )
    assert window.contains(datetime(2024, 3, 10, tzinfo=UTC))
    assert window.contains(datetime(2024, 3, 10, 23, 59, 59, 999999, tzinfo=UTC))
    assert not window.contains(datetime(2024, 3, 11, tzinfo=UTC))
    assert not window.contains(datetime(2024, 3, 9, 23, 59, 59, tzinfo=UTC))


def test_a_middle_range_ends_the_day_after_its_last_partition() -> None:
    window = window_of("2024-02-27", "2024-03-01")
    assert (window.start, window.end) == (datetime(2024, 2, 27, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize("hours", [1, 24, 48, 170])
def test_keys_for_hours_cover_the_last_hours(keys: list[str], now: datetime, hours: int) -> None:
    first, last = keys_for_hours(hours, now)
    assert last == keys[-1]
    assert first == (now - timedelta(hours=hours)).strftime("%Y-%m-%d")
    window = window_of(first, last)
    assert window.contains(now - timedelta(hours=hours))
    assert window.contains(now)
    assert not window.contains(day(first) - timedelta(microseconds=1))


def test_keys_for_hours_start_at_the_first_partition_at_most(keys: list[str], now: datetime) -> None:
    assert keys_for_hours(24 * 365 * 10, now) == (keys[0], keys[-1])


def test_keys_for_hours_read_an_offset_time_in_utc(keys: list[str]) -> None:
    # 01:00 at UTC+2 is 23:00 the previous day in UTC.
    now = datetime(2025, 3, 10, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert keys_for_hours(1, now)[0] == "2025-03-09"


def test_only_the_first_to_the_last_partition_is_complete(keys: list[str]) -> None:
    assert is_complete(keys[0], keys[-1])
    assert not is_complete(keys[1], keys[-1])
    assert not is_complete(keys[0], keys[-2])


def test_range_tags_name_the_first_and_last_partition() -> None:
    assert range_tags("2024-01-01", "2024-01-31") == {
        RANGE_START_TAG: "2024-01-01",
        RANGE_END_TAG: "2024-01-31",
    }
    assert RANGE_START_TAG == "dagster/asset_partition_range_start"
    assert RANGE_END_TAG == "dagster/asset_partition_range_end"
