"""Run tags ggufsync reads and writes, in one place."""

from __future__ import annotations

SYNC_TAG = "ggufsync/sync"
"""On every sync run (schedules, sensor, CLI): what the `auto` rule reads history from."""
MODE_TAG = "ggufsync/mode"
REASON_TAG = "ggufsync/reason"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
ALERTED_BY_TAG = "ggufsync/alerted-by"
"""`cli` on a run `ggufsync sync` executes: the command alerts on its failure itself (no daemon may be
running, as under cron), so the failure sensor leaves that run alone."""
