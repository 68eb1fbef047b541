"""The daily and weekly schedules, and the sensor that runs `auto` mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.defs.history import SYNC_TAG
from ggufsync_assets.defs.partitions import (
    DAILY,
    keys_for_hours,
    range_tags,
)
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.schedules import build_schedules
from ggufsync_assets.defs.tags import MODE_TAG, RANGE_END_TAG, RANGE_START_TAG, REASON_TAG
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.ownership import LOOPBACK
from ggufsync_tests.catalogue.conftest import SYNC_1, model, models

WINDOW_HOURS = 48


def catalogue_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "catalogue.duckdb"


@pytest.fixture(autouse=True)
def now() -> Iterator[datetime]:
    """One moment per test: schedules are evaluated at it, and Dagster's partitions end on its day
    even if the clock passes midnight (UTC) during the test. The auto sensor reads the clock itself."""
    moment = datetime.now(UTC)
    with dg.partition_loading_context(effective_dt=moment):
        yield moment


@pytest.fixture
def catalogue(tmp_path: Path) -> SyncResource:
    """The catalogue resource the auto sensor reads, on a catalogue that does not exist yet."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "sync-config.yaml").write_text("environment: development\n")
    overrides = {"storage.catalogue_path": str(catalogue_file(tmp_path))}
    return SyncResource(config_dir=str(config), overrides_json=json.dumps(overrides))


@pytest.fixture
def persistent_instance() -> Iterator[dg.DagsterInstance]:
    """Schedule contexts reach their instance through a reference, so it must live on disk."""
    with dg.instance_for_test() as on_disk:
        yield on_disk


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def settings(mode: str) -> Settings:
    return Settings(sync_behavior={"mode": mode, "incremental_window_hours": WINDOW_HOURS})


def definitions(
    mode: str, catalogue: SyncResource
) -> tuple[dg.ScheduleDefinition, dg.ScheduleDefinition, dg.SensorDefinition]:
    schedules, sensors = build_schedules(settings(mode), catalogue)
    by_name = {s.name: s for s in schedules}
    [sensor] = sensors
    assert sensor.name == "auto_sync_sensor"
    return by_name["daily_sync"], by_name["weekly_full_sync"], sensor


def scheduled(schedule: dg.ScheduleDefinition, at: datetime) -> dg.RunRequest:
    request = schedule(dg.build_schedule_context(scheduled_execution_time=at))
    assert isinstance(request, dg.RunRequest)
    return request


def evaluate(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None = None
) -> dg.SensorResult:
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    return result


@dg.op
def _step() -> None:
    pass


@dg.op
def _failing_step() -> None:
    raise RuntimeError("the Hub answered 503")


_finished = dg.GraphDefinition(name="finished_sync", node_defs=[_step]).to_job()
_failed = dg.GraphDefinition(name="failed_sync", node_defs=[_failing_step]).to_job()


def past_sync(instance: dg.DagsterInstance, mode: str, *, succeeded: bool) -> dg.DagsterRun:
    """A finished run tagged as a sync, as the sync history reads them."""
    job = _finished if succeeded else _failed
    result = job.execute_in_process(
        instance=instance, tags={SYNC_TAG: "true", MODE_TAG: mode}, raise_on_error=False
    )
    assert result.success is succeeded
    return result.dagster_run


# ----- schedules ---------------------------------------------------------------------------------


def test_no_freshness_schedule_unless_configured(catalogue: SyncResource) -> None:
    schedules, _ = build_schedules(settings("incremental"), catalogue)
    assert "freshness_sync" not in {s.name for s in schedules}


def test_the_freshness_schedule_runs_an_incremental_sync_every_configured_minutes(
    catalogue: SyncResource, persistent_instance: dg.DagsterInstance, now: datetime
) -> None:
    configured = Settings(sync_behavior={"mode": "auto", "freshness_sync_minutes": 15})
    schedules, _ = build_schedules(configured, catalogue)
    [freshness] = [s for s in schedules if s.name == "freshness_sync"]
    assert freshness.cron_schedule == "*/15 * * * *"
    assert freshness.default_status is dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(instance=persistent_instance, scheduled_execution_time=now)
    request = freshness(context)
    assert isinstance(request, dg.RunRequest)
    assert request.tags[MODE_TAG] == "incremental"


def test_the_freshness_schedule_skips_while_a_sync_is_under_way(
    catalogue: SyncResource, persistent_instance: dg.DagsterInstance, now: datetime
) -> None:
    configured = Settings(sync_behavior={"freshness_sync_minutes": 15})
    [freshness] = [s for s in build_schedules(configured, catalogue)[0] if s.name == "freshness_sync"]
    persistent_instance.add_run(
        dg.DagsterRun(job_name="ggufsync_sync", status=dg.DagsterRunStatus.STARTED, tags={SYNC_TAG: "true"})
    )
    context = dg.build_schedule_context(instance=persistent_instance, scheduled_execution_time=now)
    assert isinstance(freshness(context), dg.SkipReason)


def test_daily_sync_requests_the_incremental_window(catalogue: SyncResource, now: datetime) -> None:
    daily, _, _ = definitions("incremental", catalogue)
    at = now.replace(hour=3, minute=0, second=0, microsecond=0)
    request = scheduled(daily, at)
    assert request.tags == {
        **range_tags(*keys_for_hours(WINDOW_HOURS, at)),
        MODE_TAG: "incremental",
        SYNC_TAG: "true",
    }
    assert request.tags[RANGE_START_TAG] == (at - timedelta(hours=WINDOW_HOURS)).strftime("%Y-%m-%d")


def test_daily_sync_runs_every_partition_when_mode_is_full(catalogue: SyncResource, now: datetime) -> None:
    daily, _, _ = definitions("full", catalogue)
    keys = DAILY.get_partition_keys()
    request = scheduled(daily, now)
    assert request.tags == {**range_tags(keys[0], keys[-1]), MODE_TAG: "full", SYNC_TAG: "true"}


def test_daily_sync_in_auto_mode_is_incremental(catalogue: SyncResource, now: datetime) -> None:
    daily, _, _ = definitions("auto", catalogue)
    assert scheduled(daily, now).tags[MODE_TAG] == "incremental"


@pytest.mark.parametrize("mode", ["incremental", "full", "auto"])
def test_weekly_full_sync_requests_every_partition(catalogue: SyncResource, mode: str, now: datetime) -> None:
    _, weekly, _ = definitions(mode, catalogue)
    keys = DAILY.get_partition_keys()
    request = scheduled(weekly, now)
    assert request.tags == {**range_tags(keys[0], keys[-1]), MODE_TAG: "full", SYNC_TAG: "true"}


def test_schedule_times_are_utc(catalogue: SyncResource) -> None:
    daily, weekly, _ = definitions("incremental", catalogue)
    assert (daily.cron_schedule, daily.execution_timezone) == ("0 3 * * *", "UTC")
    assert (weekly.cron_schedule, weekly.execution_timezone) == ("0 4 * * 0", "UTC")


def test_auto_mode_starts_the_sensor_and_stops_the_schedules(catalogue: SyncResource) -> None:
    daily, weekly, sensor = definitions("auto", catalogue)
    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING
    assert daily.default_status is dg.DefaultScheduleStatus.STOPPED
    assert weekly.default_status is dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize("mode", ["incremental", "full"])
def test_a_configured_mode_starts_the_schedules_and_stops_the_sensor(
    catalogue: SyncResource, mode: str
) -> None:
    daily, weekly, sensor = definitions(mode, catalogue)
    assert sensor.default_status is dg.DefaultSensorStatus.STOPPED
    assert daily.default_status is dg.DefaultScheduleStatus.RUNNING
    assert weekly.default_status is dg.DefaultScheduleStatus.RUNNING


# ----- the auto sensor -----------------------------------------------------------------------------


def test_auto_sensor_on_a_new_instance_requests_a_full_sync_and_sets_a_cursor(
    catalogue: SyncResource, instance: dg.DagsterInstance
) -> None:
    _, _, sensor = definitions("auto", catalogue)
    before = datetime.now(UTC)
    result = evaluate(sensor, instance)
    [request] = result.run_requests or []
    keys = DAILY.get_partition_keys()
    assert request.tags[MODE_TAG] == "full"
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (keys[0], keys[-1])
    assert request.tags[SYNC_TAG] == "true"
    assert request.tags[REASON_TAG] == "no full sync has succeeded yet"
    assert result.cursor is not None
    assert before <= datetime.fromisoformat(result.cursor) <= datetime.now(UTC)


def test_auto_sensor_skips_within_a_day_of_its_last_request(
    catalogue: SyncResource, instance: dg.DagsterInstance
) -> None:
    _, _, sensor = definitions("auto", catalogue)
    recent = datetime.now(UTC) - timedelta(hours=3)
    result = evaluate(sensor, instance, cursor=recent.isoformat())
    assert not result.run_requests
    assert result.skip_reason is not None
    assert f"a sync ran at {recent:%Y-%m-%d %H:%M} UTC" in str(result.skip_reason)
    assert result.cursor is None  # the cursor is kept


def test_auto_sensor_runs_incremental_a_day_after_a_recent_full_sync(
    catalogue: SyncResource, instance: dg.DagsterInstance
) -> None:
    past_sync(instance, "full", succeeded=True)
    _, _, sensor = definitions("auto", catalogue)
    before = datetime.now(UTC)
    result = evaluate(sensor, instance, cursor=(before - timedelta(days=1, minutes=1)).isoformat())
    after = datetime.now(UTC)
    [request] = result.run_requests or []
    assert request.tags[MODE_TAG] == "incremental"
    # The sensor reads the clock between `before` and `after`; midnight may fall in between.
    assert request.tags[RANGE_START_TAG] in {keys_for_hours(WINDOW_HOURS, t)[0] for t in (before, after)}


def test_auto_sensor_retries_a_failed_sync_without_waiting_a_day(
    catalogue: SyncResource, instance: dg.DagsterInstance
) -> None:
    past_sync(instance, "full", succeeded=True)
    requested = datetime.now(UTC) - timedelta(seconds=1)
    past_sync(instance, "incremental", succeeded=False)
    _, _, sensor = definitions("auto", catalogue)
    result = evaluate(sensor, instance, cursor=requested.isoformat())
    [request] = result.run_requests or []
    assert request.tags[MODE_TAG] == "full"
    assert request.tags[REASON_TAG] == "the last sync failed"


def test_auto_sensor_retries_a_failure_once_not_every_hour(
    catalogue: SyncResource, instance: dg.DagsterInstance
) -> None:
    past_sync(instance, "full", succeeded=True)
    past_sync(instance, "incremental", succeeded=False)
    _, _, sensor = definitions("auto", catalogue)
    retry = evaluate(sensor, instance, cursor=(datetime.now(UTC) - timedelta(hours=2)).isoformat())
    assert retry.run_requests
    # An hour later the retry is still running: the old failure calls for nothing more.
    again = evaluate(sensor, instance, cursor=retry.cursor)
    assert not again.run_requests
    assert again.skip_reason


def publish_catalogue(path: Path, *, listed_by_last_full: int, present: int) -> None:
    """A published catalogue whose last complete pass listed `listed_by_last_full` repos; `present` now."""
    store = CatalogueStore(path)
    with store.writer() as writer:
        writer.ensure_run("full-1", mode="full", started_at=SYNC_1, complete_pass=True)
        writer.finish_run("full-1", status="succeeded", finished_at=SYNC_1, repos_listed=listed_by_last_full)
        writer.upsert_models(
            models(*(model(f"org/repo-{i}-GGUF") for i in range(present))), run_id="r", now=SYNC_1
        )
    store.publish()


@pytest.mark.parametrize(("present", "mode"), [(11, "full"), (10, "incremental")])
def test_auto_sensor_reads_the_repo_count_from_the_published_catalogue(
    catalogue: SyncResource, instance: dg.DagsterInstance, tmp_path: Path, present: int, mode: str
) -> None:
    publish_catalogue(catalogue_file(tmp_path), listed_by_last_full=10, present=present)
    past_sync(instance, "full", succeeded=True)
    _, _, sensor = definitions("auto", catalogue)
    result = evaluate(sensor, instance, cursor=(datetime.now(UTC) - timedelta(days=2)).isoformat())
    [request] = result.run_requests or []
    assert request.tags[MODE_TAG] == mode


def test_auto_sensor_ignores_an_unreadable_catalogue(
    catalogue: SyncResource, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    path = catalogue_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a duckdb file" * 100)
    past_sync(instance, "full", succeeded=True)
    _, _, sensor = definitions("auto", catalogue)
    result = evaluate(sensor, instance, cursor=(datetime.now(UTC) - timedelta(days=2)).isoformat())
    [request] = result.run_requests or []
    assert request.tags[MODE_TAG] == "incremental"


def publish_simulator_catalogue(path: Path) -> None:
    """A published catalogue last synced from a simulator on loopback (the demo's)."""
    store = CatalogueStore(path)
    with store.writer() as writer:
        writer.ensure_run("demo", mode="full", started_at=SYNC_1, complete_pass=True, hub=LOOPBACK)
        writer.finish_run("demo", status="succeeded", finished_at=SYNC_1)
    store.publish()


@pytest.mark.parametrize("name", ["daily_sync", "weekly_full_sync"])
def test_a_schedule_for_the_hub_skips_a_catalogue_synced_from_the_simulator(
    catalogue: SyncResource, tmp_path: Path, now: datetime, name: str
) -> None:
    publish_simulator_catalogue(catalogue_file(tmp_path))
    another_hub = Settings(sync_behavior={"mode": "incremental"}, hub={"endpoint": "https://hub.invalid"})
    schedules, _ = build_schedules(another_hub, catalogue)
    [schedule] = [s for s in schedules if s.name == name]
    skipped = schedule(dg.build_schedule_context(scheduled_execution_time=now))
    assert isinstance(skipped, dg.SkipReason)
    assert "synced from a Hub simulator on loopback" in str(skipped.skip_message)
    assert "configured for hub.invalid" in str(skipped.skip_message)


def test_the_auto_sensor_skips_a_catalogue_synced_from_another_hub(
    catalogue: SyncResource, instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    publish_simulator_catalogue(catalogue_file(tmp_path))
    _, _, sensor = definitions("auto", catalogue)
    result = evaluate(sensor, instance)
    assert not result.run_requests
    assert "synced from a Hub simulator on loopback" in str(result.skip_reason)
