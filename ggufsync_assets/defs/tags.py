"""Run tags ggufsync reads and writes, in one place."""

from __future__ import annotations

SYNC_TAG = "ggufsync/sync"
"""On every sync run (schedules, sensor, CLI): what the `auto` rule reads history from."""
MODE_TAG = "ggufsync/mode"
REASON_TAG = "ggufsync/reason"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
