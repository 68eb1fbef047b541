"""Which sync runs: the configured mode, or for `auto` the rule in sync/modes.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ggufsync_assets.settings import Settings, SyncMode
from ggufsync_assets.sync.modes import SyncHistory, decide_mode

NOW = datetime(2025, 10, 1, 3, 0, tzinfo=UTC)
THRESHOLD_HOURS = 168
RECENT = NOW - timedelta(hours=20)


def settings(mode: str) -> Settings:
    return Settings(sync_behavior={"mode": mode, "full_sync_threshold_hours": THRESHOLD_HOURS})


def history(
    *,
    last_full: datetime | None = RECENT,
    failed: bool = False,
    at_last_full: int | None = 1000,
    now: int | None = 1000,
) -> SyncHistory:
    return SyncHistory(
        last_full_success_at=last_full, last_run_failed=failed, repos_at_last_full=at_last_full, repos_now=now
    )


@pytest.mark.parametrize(
    "past",
    [
        history(last_full=None),
        history(failed=True),
        history(last_full=NOW - timedelta(days=30)),
        history(now=2000),
    ],
    ids=["never-synced", "failed", "stale", "count-moved"],
)
def test_configured_incremental_wins_over_every_auto_reason(past: SyncHistory) -> None:
    mode, reason = decide_mode(settings("incremental"), past, NOW)
    assert mode is SyncMode.INCREMENTAL
    assert reason == "sync_behavior.mode is incremental"


def test_configured_full_wins_over_a_recent_full_sync() -> None:
    mode, reason = decide_mode(settings("full"), history(), NOW)
    assert mode is SyncMode.FULL
    assert reason == "sync_behavior.mode is full"


def test_auto_runs_full_when_no_full_sync_has_succeeded() -> None:
    mode, reason = decide_mode(settings("auto"), history(last_full=None, at_last_full=None, now=None), NOW)
    assert mode is SyncMode.FULL
    assert "no full sync" in reason


def test_auto_runs_full_when_the_last_full_is_older_than_the_threshold() -> None:
    stale = NOW - timedelta(hours=THRESHOLD_HOURS, seconds=1)
    mode, reason = decide_mode(settings("auto"), history(last_full=stale), NOW)
    assert mode is SyncMode.FULL
    assert "older than" in reason


def test_auto_stays_incremental_just_inside_the_threshold() -> None:
    fresh = NOW - timedelta(hours=THRESHOLD_HOURS) + timedelta(minutes=1)
    assert decide_mode(settings("auto"), history(last_full=fresh), NOW)[0] is SyncMode.INCREMENTAL


def test_auto_runs_full_when_the_last_run_failed() -> None:
    mode, reason = decide_mode(settings("auto"), history(failed=True), NOW)
    assert mode is SyncMode.FULL
    assert reason == "the last sync failed"


@pytest.mark.parametrize("repos_now", [1100, 900, 1500], ids=["grew-10%", "shrank-10%", "grew-50%"])
def test_auto_runs_full_when_the_repo_count_moved_ten_percent_or_more(repos_now: int) -> None:
    mode, reason = decide_mode(settings("auto"), history(at_last_full=1000, now=repos_now), NOW)
    assert mode is SyncMode.FULL
    assert "repo count moved" in reason


@pytest.mark.parametrize("repos_now", [1090, 910], ids=["grew-9%", "shrank-9%"])
def test_auto_stays_incremental_when_the_repo_count_moved_nine_percent(repos_now: int) -> None:
    assert (
        decide_mode(settings("auto"), history(at_last_full=1000, now=repos_now), NOW)[0]
        is SyncMode.INCREMENTAL
    )


@pytest.mark.parametrize(
    "past",
    [history(), history(at_last_full=None, now=None), history(at_last_full=1000, now=None)],
    ids=["same-count", "counts-unknown", "current-count-unknown"],
)
def test_auto_runs_incremental_when_a_recent_full_sync_leaves_nothing_to_catch_up(past: SyncHistory) -> None:
    mode, reason = decide_mode(settings("auto"), past, NOW)
    assert mode is SyncMode.INCREMENTAL
    assert "recent" in reason
