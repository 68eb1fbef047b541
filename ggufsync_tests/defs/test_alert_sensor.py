"""The run failure sensor, evaluated on real failed runs of the sync job.

Each test runs the sync job in process on a new instance, against a loopback server that
plays the Hub (GETs: an empty listing, or an error) and receives the webhook alerts (POSTs). The
sensor is then evaluated with Dagster's run status sensor context for the run's failure event,
as the daemon would evaluate it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from ggufsync_assets.catalogue.contract import SCORE_FRAME
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.defs.jobs import SYNC_JOB
from ggufsync_assets.defs.partitions import DAILY, range_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.tags import ALERTED_BY_TAG
from ggufsync_tests.alerts import Receiver
from ggufsync_tests.catalogue.conftest import model, models
from ggufsync_tests.instances import sync_instance

SENSOR = "sync_failure_alert"
HOOK = "/hooks/ggufsync"


@pytest.fixture
def catalogue_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "catalogue.duckdb"


def resource(config_dir: Path, receiver: Receiver, catalogue_path: Path, **overrides: Any) -> SyncResource:
    """Settings for a run that fails fast: no retries anywhere, the Hub and the webhook on loopback."""
    values: dict[str, Any] = {
        "hub.endpoint": receiver.url,
        "rate_limiting.requests_per_second": 1000,
        "rate_limiting.requests_per_hour": 1_000_000,
        "rate_limiting.max_retries": 0,
        "error_handling.max_recovery_attempts": 0,
        "error_handling.enable_notifications": True,
        "monitoring.enable_alerts": True,
        "monitoring.alert_channels": ["webhook"],
        "notifications.webhook_urls": [receiver.url + HOOK],
        "storage.catalogue_path": str(catalogue_path),
        **overrides,
    }
    return SyncResource(config_dir=str(config_dir), overrides_json=json.dumps(values))


def build(settings: SyncResource) -> dg.Definitions:
    # Imported here: the module builds its default definitions on import, from the test's config folder.
    definitions = importlib.import_module("ggufsync_assets.definitions")
    return definitions.build_definitions(settings)


def run_last_two_days(
    defs: dg.Definitions, instance: dg.DagsterInstance, **tags: str
) -> dg.ExecuteInProcessResult:
    keys = DAILY.get_partition_keys()
    return defs.resolve_job_def(SYNC_JOB).execute_in_process(
        instance=instance, tags={**range_tags(keys[-2], keys[-1]), **tags}, raise_on_error=False
    )


def evaluate_sensor(
    defs: dg.Definitions, instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult
) -> None:
    sensor = defs.resolve_sensor_def(SENSOR)
    context = dg.build_run_status_sensor_context(
        sensor_name=SENSOR,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    sensor(context)


def seed_incomplete_repo(catalogue_path: Path) -> None:
    """A repo synced earlier whose entry is far below the completeness minimum (outside the run's window)."""
    with CatalogueStore(catalogue_path).writer() as writer:
        writer.upsert_models(
            models(model("someone/half-known-GGUF")), run_id="earlier", now=datetime.now(UTC)
        )
        writer.set_completeness(
            pl.DataFrame(
                {
                    "repo_id": ["someone/half-known-GGUF"],
                    "completeness_score": [0.2],
                    "completeness_gaps": [["no file tree"]],
                    "card_score": [1.0],
                },
                schema=SCORE_FRAME,
            )
        )


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with sync_instance() as instance:
        yield instance


def alerts(receiver: Receiver) -> list[dict[str, Any]]:
    return [post.json() for post in receiver.posts(HOOK)]


def test_a_sync_run_that_fails_sends_a_failure_alert(
    receiver: Receiver, bare_config_dir: Path, catalogue_path: Path, instance: dg.DagsterInstance
) -> None:
    receiver.get_status = 500  # the Hub is down: listing fails
    defs = build(resource(bare_config_dir, receiver, catalogue_path))
    result = run_last_two_days(defs, instance)
    assert not result.success
    assert alerts(receiver) == []  # the run itself sends nothing; the sensor does
    evaluate_sensor(defs, instance, result)
    [alert] = alerts(receiver)
    assert alert["kind"] == "failure"
    assert alert["run_id"] == result.run_id
    assert alert["title"] == f"sync run {result.run_id[:8]} failed"
    assert "gguf_model_listing" in alert["details"]


def test_a_run_the_sync_command_executed_is_left_to_the_command_to_alert(
    receiver: Receiver, bare_config_dir: Path, catalogue_path: Path, instance: dg.DagsterInstance
) -> None:
    receiver.get_status = 500
    defs = build(resource(bare_config_dir, receiver, catalogue_path))
    result = run_last_two_days(defs, instance, **{ALERTED_BY_TAG: "cli"})
    assert not result.success
    evaluate_sensor(defs, instance, result)
    assert alerts(receiver) == []


def test_a_failed_blocking_check_also_sends_a_critical_alert(
    receiver: Receiver, bare_config_dir: Path, catalogue_path: Path, instance: dg.DagsterInstance
) -> None:
    seed_incomplete_repo(catalogue_path)
    defs = build(resource(bare_config_dir, receiver, catalogue_path))
    result = run_last_two_days(defs, instance)
    assert not result.success
    evaluate_sensor(defs, instance, result)
    critical, failure = alerts(receiver)
    assert critical["kind"] == "critical"
    assert critical["title"] == "blocking check failed: completeness_meets_minimum"
    assert "someone/half-known-GGUF 0.20 (no file tree)" in critical["details"]
    assert critical["run_id"] == result.run_id
    assert failure["kind"] == "failure"
    assert failure["run_id"] == result.run_id


def test_a_run_whose_checks_passed_sends_only_a_failure_alert(
    receiver: Receiver, bare_config_dir: Path, catalogue_path: Path, instance: dg.DagsterInstance
) -> None:
    # Every check before the last step passes; the last step then fails writing its Parquet exports.
    catalogue_path.parent.mkdir(parents=True)
    (catalogue_path.parent / "exports").write_text("a file where the exports folder goes")
    defs = build(resource(bare_config_dir, receiver, catalogue_path))
    result = run_last_two_days(defs, instance)
    assert not result.success
    evaluations = result.get_asset_check_evaluations()
    assert evaluations
    assert all(e.passed for e in evaluations)
    evaluate_sensor(defs, instance, result)
    [alert] = alerts(receiver)
    assert alert["kind"] == "failure"
    assert "gguf_catalogue" in alert["details"]


def test_no_alert_leaves_when_alerts_are_off(
    receiver: Receiver, bare_config_dir: Path, catalogue_path: Path, instance: dg.DagsterInstance
) -> None:
    receiver.get_status = 500
    defs = build(
        resource(
            bare_config_dir,
            receiver,
            catalogue_path,
            **{"monitoring.enable_alerts": False, "notifications.webhook_urls": []},
        )
    )
    sensor = defs.resolve_sensor_def(SENSOR)
    assert sensor.default_status is dg.DefaultSensorStatus.STOPPED
    result = run_last_two_days(defs, instance)
    evaluate_sensor(defs, instance, result)
    assert alerts(receiver) == []


def test_the_alert_sensor_runs_by_default_when_alerts_are_on(
    receiver: Receiver, bare_config_dir: Path, catalogue_path: Path
) -> None:
    sensor = build(resource(bare_config_dir, receiver, catalogue_path)).resolve_sensor_def(SENSOR)
    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING
