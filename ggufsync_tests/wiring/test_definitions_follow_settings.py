"""The Dagster definitions take their policies from the settings."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import dagster as dg
import pytest

from ggufsync_assets.defs.assets import build_assets
from ggufsync_assets.defs.partitions import DAILY
from ggufsync_assets.defs.resources import LOGGER, configure_logging
from ggufsync_assets.defs.steps import performance
from ggufsync_assets.hub.progress import HubStats
from ggufsync_assets.settings import Settings


def _assets(settings: Settings) -> dict[str, dg.AssetsDefinition]:
    return {a.key.to_user_string(): a for a in build_assets(settings)}


def test_retry_policy_follows_max_recovery_attempts() -> None:
    assets = _assets(Settings(error_handling={"max_recovery_attempts": 5}))
    for asset in assets.values():
        assert asset.op.retry_policy is not None
        assert asset.op.retry_policy.max_retries == 5


def test_partitioned_assets_are_fresh_within_the_incremental_window() -> None:
    assets = _assets(Settings(sync_behavior={"incremental_window_hours": 36}))
    for name in ("gguf_model_listing", "gguf_model_files", "gguf_model_completeness"):
        policy = assets[name].specs_by_key[assets[name].key].freshness_policy
        assert policy is not None
        assert policy.fail_window.to_timedelta() == timedelta(hours=36)
        assert assets[name].partitions_def == DAILY
        assert assets[name].backfill_policy == dg.BackfillPolicy.single_run()


def test_with_a_freshness_schedule_partitions_warn_after_its_interval_and_fail_after_twice_it() -> None:
    assets = _assets(Settings(sync_behavior={"freshness_sync_minutes": 15}))
    policy = assets["gguf_model_listing"].specs_by_key[assets["gguf_model_listing"].key].freshness_policy
    assert policy is not None
    assert policy.warn_window is not None
    assert (policy.warn_window.to_timedelta(), policy.fail_window.to_timedelta()) == (
        timedelta(minutes=15),
        timedelta(minutes=30),
    )


def test_the_catalogue_is_fresh_within_the_full_sync_threshold() -> None:
    asset = _assets(Settings(sync_behavior={"full_sync_threshold_hours": 100}))["gguf_catalogue"]
    policy = asset.specs_by_key[asset.key].freshness_policy
    assert policy is not None
    assert policy.fail_window.to_timedelta() == timedelta(hours=100)


@pytest.mark.parametrize(
    ("settings", "level"),
    [
        (Settings(log_level="WARNING"), logging.WARNING),
        (Settings(log_level="ERROR", debug_mode=True), logging.DEBUG),
    ],
)
def test_log_level_and_debug_mode_set_the_ggufsync_loggers(settings: Settings, level: int) -> None:
    configure_logging(settings)
    assert logging.getLogger(f"{LOGGER}.hub").getEffectiveLevel() == level


def test_performance_metrics_are_reported_only_when_enabled() -> None:
    started = time.monotonic()
    assert performance(Settings(monitoring={"enable_performance_metrics": False}), started) == {}
    assert set(performance(Settings(), started)) == {"duration_seconds", "peak_memory_mb"}


def test_a_hub_steps_performance_metrics_carry_its_request_counts() -> None:
    stats = HubStats(requests=12, retries=2, rate_limited=1, bytes_received=4096)
    metrics = performance(Settings(), time.monotonic(), stats)
    assert {k: metrics[k] for k in ("api_requests", "retries", "rate_limited", "bytes_received")} == {
        "api_requests": 12,
        "retries": 2,
        "rate_limited": 1,
        "bytes_received": 4096,
    }
    assert (
        performance(Settings(monitoring={"enable_performance_metrics": False}), time.monotonic(), stats) == {}
    )
