"""Syncs that go wrong: a blocking check that fails, and broken records from the Hub.

Incremental syncs keep these cheap; the simulator gets a few repos created a moment ago, so the
incremental window holds them (a test may make one's file tree fail on every attempt). Listing
pages of two records put only those fresh repos in the first pages of the gguf tag listing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from ggufsync_assets.defs.jobs import SYNC_JOB
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.hubsim.files import gguf_file
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.instances import sync_instance
from ggufsync_tests.pipeline.conftest import (
    NO_HEADER_READS,
    Pipeline,
    SyncRun,
    build_definitions,
    rows_of,
    start_simulator,
)

REPOS = 30
SEED = 31
FRESH = tuple(f"fresh-publisher/Fresh-{letter}-GGUF" for letter in "ABCDE")
BROKEN_TREE = "fresh-publisher/Broken-Tree-GGUF"
ATTAINABLE = {
    "validation.min_completeness_score": 0.5,
    "validation.max_share_below_minimum": 1.0,
    **NO_HEADER_READS,
}
"""Lenient enough that only a stricter minimum (IMPOSSIBLE) fails a sync that loses a tree."""
PAGE_SIZE = 2
IMPOSSIBLE = {"validation.min_completeness_score": 1.0}
"""A minimum that any loss fails."""
TAG_LISTING = {"filter": "gguf"}
"""The `gguf` tag's listing: its pages come one after another, while the other strategies page the
Hub beside it, so faults aimed at the first listing pages aim at its own."""


@pytest.fixture(scope="module")
def sim(module_environment: Path) -> Iterator[HubSimulator]:
    simulator = start_simulator(REPOS, SEED, max_page_size=PAGE_SIZE)
    for repo_id in FRESH:
        simulator.add(repo_id, tags=("gguf", "text-generation"))
    simulator.add(
        BROKEN_TREE, tags=("gguf", "text-generation"), files=[gguf_file("Model-Q4_K_M.gguf")], gated=False
    )
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="module")
def instance(module_environment: Path) -> Iterator[dg.DagsterInstance]:
    with sync_instance() as instance:
        yield instance


@pytest.fixture
def pipeline(sim: HubSimulator, instance: dg.DagsterInstance, tmp_path: Path) -> Pipeline:
    sim.faults.clear()  # the simulator is shared: no test inherits another's faults
    return Pipeline(sim, tmp_path, instance, **ATTAINABLE)


def lose_tree(pipeline: Pipeline, repo_id: str = BROKEN_TREE) -> None:
    """The repo's file tree fails on every attempt from now on."""
    pipeline.sim.faults.script("error", count=100_000, status=500, path_prefix=f"/api/models/{repo_id}/tree")


def failed_steps(run: SyncRun) -> set[str]:
    return {e.step_key for e in run.result.all_events if e.is_step_failure and e.step_key}


# ----- a failing blocking check -----------------------------------------------------------------


@pytest.fixture
def failed_first_sync(pipeline: Pipeline) -> SyncRun:
    lose_tree(pipeline)
    return pipeline.sync(SyncMode.INCREMENTAL, **IMPOSSIBLE)


def test_a_failing_completeness_check_fails_the_run(failed_first_sync: SyncRun) -> None:
    assert not failed_first_sync.success
    assert failed_first_sync.check_results()["completeness_meets_minimum"] is False
    assert failed_steps(failed_first_sync) == {"gguf_model_completeness"}


def test_a_failing_blocking_check_stops_the_run_before_gguf_catalogue(failed_first_sync: SyncRun) -> None:
    executed = failed_first_sync.executed_steps()
    assert {"gguf_model_listing", "gguf_model_files", "gguf_model_completeness"} <= executed
    assert "gguf_catalogue" not in executed
    assert failed_first_sync.result.asset_materializations_for_node("gguf_catalogue") == []


def test_a_first_sync_failing_a_check_publishes_nothing(
    failed_first_sync: SyncRun, pipeline: Pipeline
) -> None:
    assert failed_first_sync.snapshot is None
    assert not pipeline.catalogue.exists()
    assert not (pipeline.catalogue.parent / "exports").exists()


def test_a_sync_failing_a_check_is_recorded_as_failed_in_sync_runs(
    failed_first_sync: SyncRun, pipeline: Pipeline
) -> None:
    # The run's row lives in the working file (nothing was published); the next sync carries it on.
    [(status, error, finished)] = rows_of(
        pipeline.store.working,
        "SELECT status, error, finished_at IS NOT NULL FROM sync_runs WHERE run_id = ?",
        failed_first_sync.run_id,
    )
    assert (status, finished) == ("failed", True)
    assert "completeness_meets_minimum" in error


def test_a_failing_check_leaves_the_published_catalogue_unchanged(pipeline: Pipeline) -> None:
    good = pipeline.sync(SyncMode.INCREMENTAL)
    assert good.success
    published = pipeline.catalogue.read_bytes()
    exports = {p.name: p.read_bytes() for p in (pipeline.catalogue.parent / "exports").iterdir()}
    pipeline.sim.edit(FRESH[0])
    lose_tree(pipeline, FRESH[0])

    failed = pipeline.sync(SyncMode.INCREMENTAL, **IMPOSSIBLE)

    assert not failed.success
    assert pipeline.catalogue.read_bytes() == published
    assert {p.name: p.read_bytes() for p in (pipeline.catalogue.parent / "exports").iterdir()} == exports
    assert rows_of(pipeline.catalogue, "SELECT run_id, status FROM sync_runs") == [(good.run_id, "succeeded")]


def test_without_preserve_data_on_failure_a_failing_check_publishes_what_was_written(
    pipeline: Pipeline,
) -> None:
    lose_tree(pipeline)
    failed = pipeline.sync(
        SyncMode.INCREMENTAL, **IMPOSSIBLE, **{"error_handling.preserve_data_on_failure": False}
    )

    assert not failed.success
    assert failed.rows("SELECT run_id, status FROM sync_runs") == [(failed.run_id, "failed")]
    assert set(FRESH) | {BROKEN_TREE} <= {r for (r,) in failed.rows("SELECT repo_id FROM models")}


# ----- broken records ---------------------------------------------------------------------------


def test_malformed_listing_records_are_rejected_with_a_reason_and_the_run_succeeds(
    pipeline: Pipeline,
) -> None:
    # One record broken in each of the tag listing's first three pages: three of the fresh repos.
    pipeline.sim.faults.script("malformed", count=3, path_prefix="/api/models", query=TAG_LISTING)

    run = pipeline.sync(SyncMode.INCREMENTAL)

    assert run.success
    rejected = run.rows("SELECT run_id, stage, reason, record FROM rejected_records")
    assert len(rejected) == 3
    for run_id, stage, reason, record in rejected:
        assert (run_id, stage) == (run.run_id, "listing")
        assert reason.startswith(("id:", "lastModified:")), reason
        assert json.loads(record)["_id"]
    assert run.rows("SELECT rejects, status FROM sync_runs") == [(3, "succeeded")]
    assert run.figures("listing")["rejected"] == 3
    assert {name for name, passed in run.check_results().items() if not passed} <= {"rejects_below_bound"}


def test_malformed_records_make_up_nothing_in_the_catalogue(pipeline: Pipeline) -> None:
    pipeline.sim.faults.script("malformed", count=3, path_prefix="/api/models", query=TAG_LISTING)

    run = pipeline.sync(SyncMode.INCREMENTAL)

    [(first_day,)] = run.rows("SELECT partition_start FROM sync_runs")
    window_start = datetime.strptime(first_day, "%Y-%m-%d").replace(tzinfo=UTC)
    in_window = {r.id: r.sha for r in run.truth.values() if r.last_modified >= window_start}
    catalogued = dict(run.rows("SELECT repo_id, sha FROM models"))
    assert set(FRESH) | {BROKEN_TREE} <= set(in_window)
    # Nothing made up, nothing lost: the name search lists the repos whose tag listing broke.
    assert catalogued == in_window


# ----- a catalogue of another Hub ---------------------------------------------------------------

ANOTHER_HUB = {"hub.endpoint": "https://hub.invalid"}
"""A Hub other than the simulator (.invalid never resolves: nothing could reach it anyway)."""


def test_a_sync_for_another_hub_refuses_the_simulators_catalogue_and_changes_nothing(
    pipeline: Pipeline,
) -> None:
    first = pipeline.sync(SyncMode.INCREMENTAL)
    assert first.success
    assert first.rows("SELECT DISTINCT hub FROM sync_runs") == [("loopback",)]

    refused = pipeline.sync(SyncMode.INCREMENTAL, **ANOTHER_HUB)

    assert not refused.success
    assert failed_steps(refused) == {"gguf_model_listing"}
    assert "was synced from a Hub simulator on loopback" in str(refused.result.all_events)
    assert refused.requests == []
    assert refused.rows("SELECT * FROM models ORDER BY repo_id") == first.rows(
        "SELECT * FROM models ORDER BY repo_id"
    )


def test_a_later_step_run_on_its_own_for_another_hub_is_refused_too(pipeline: Pipeline) -> None:
    assert pipeline.sync(SyncMode.INCREMENTAL).success
    published = pipeline.catalogue.read_bytes()
    job = build_definitions(pipeline.resource(**ANOTHER_HUB)).resolve_job_def(SYNC_JOB)

    alone = job.execute_in_process(
        instance=pipeline.instance, asset_selection=[dg.AssetKey("gguf_catalogue")], raise_on_error=False
    )

    assert not alone.success
    assert "was synced from a Hub simulator on loopback" in str(alone.all_events)
    assert pipeline.catalogue.read_bytes() == published
