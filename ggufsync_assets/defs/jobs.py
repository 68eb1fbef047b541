"""The sync job: all four assets, run for one partition range (the schedules and the CLI say which)."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from ggufsync_assets.defs.assets import GROUP
from ggufsync_assets.defs.partitions import all_keys, keys_for_hours, range_tags
from ggufsync_assets.defs.tags import MODE_TAG, SYNC_TAG
from ggufsync_assets.settings import Settings, SyncMode

SYNC_JOB = "ggufsync_sync"

sync_job = dg.define_asset_job(SYNC_JOB, selection=dg.AssetSelection.groups(GROUP))


def sync_tags(settings: Settings, mode: SyncMode, now: datetime) -> dict[str, str]:
    """Run tags for a sync in `mode`: the partition range it covers, and what kind of sync it is."""
    if mode is SyncMode.FULL:
        keys = all_keys()
        first, last = keys[0], keys[-1]
    else:
        first, last = keys_for_hours(settings.sync_behavior.incremental_window_hours, now)
    return {**range_tags(first, last), MODE_TAG: mode.value, SYNC_TAG: "true"}
