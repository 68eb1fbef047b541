"""Which kind of sync to run: the configured mode, or for `auto` the rule below.

auto runs a full sync when none has succeeded yet, when the last one is older than
full_sync_threshold_hours, when the last sync failed, or when the number of repos moved by 10 %
or more since the last full pass (something changed that an incremental window may miss);
otherwise an incremental sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ggufsync_assets.settings import Settings, SyncMode

COUNT_MOVE = 0.10


@dataclass(frozen=True)
class SyncHistory:
    last_full_success_at: datetime | None
    last_run_failed: bool
    repos_at_last_full: int | None
    repos_now: int | None
    last_run_finished_at: datetime | None = None


def decide_mode(settings: Settings, history: SyncHistory, now: datetime) -> tuple[SyncMode, str]:
    configured = settings.sync_behavior.mode
    if configured is not SyncMode.AUTO:
        return configured, f"sync_behavior.mode is {configured.value}"
    threshold = timedelta(hours=settings.sync_behavior.full_sync_threshold_hours)
    if history.last_full_success_at is None:
        return SyncMode.FULL, "no full sync has succeeded yet"
    if now - history.last_full_success_at > threshold:
        return SyncMode.FULL, f"the last full sync is older than {threshold}"
    if history.last_run_failed:
        return SyncMode.FULL, "the last sync failed"
    if history.repos_at_last_full and history.repos_now is not None:
        moved = abs(history.repos_now - history.repos_at_last_full) / history.repos_at_last_full
        if moved >= COUNT_MOVE:
            return SyncMode.FULL, f"the repo count moved by {moved:.0%} since the last full sync"
    return SyncMode.INCREMENTAL, "a full sync is recent and nothing calls for another"
