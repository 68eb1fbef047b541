"""Every asset check, made to fail through a real sync, and what its failure does to the run.

The simulator makes each check's condition as a Hub could: a repo whose file tree fails on every
attempt, broken listing records, a repo deleted between two syncs, a .gguf file that holds a Git
LFS pointer instead of GGUF, and a Q8_0 file named Q4_K_M. Duplicate keys cannot come from the Hub
(a repo renamed by case is caught up by the listing), so that scenario starts from a catalogue
holding two spellings of a repo the sync does not list. A failing blocking check fails the run, and
Dagster does not execute the assets downstream of it; a failing check that does not block leaves
the run to finish and publish.

Each scenario has its own small simulator and catalogue, and syncs incrementally: the window holds
just the repos the scenario created a moment ago. A scenario runs when a test first asks for it.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.hubsim import small_file
from ggufsync_assets.hubsim.files import gguf_file, lfs_pointer
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.instances import sync_instance
from ggufsync_tests.pipeline.conftest import (
    NO_HEADER_READS,
    Pipeline,
    SyncRun,
    build_definitions,
    copy_config,
    rows_of,
    start_simulator,
)

REPOS = 20
SEED = 71
TAGS = ("gguf", "text-generation")
FRESH = tuple(f"fresh-publisher/Fresh-{letter}-GGUF" for letter in "ABC")
REACHABLE = {"validation.min_completeness_score": 0.5, **NO_HEADER_READS}
"""A minimum the fresh repos reach, so that only the check a scenario aims at fails."""

BROKEN_TREE = "fresh-publisher/Broken-Tree-GGUF"
RENAMED = ("fresh-publisher/Renamed-GGUF", "fresh-publisher/renamed-gguf")
SPELLINGS = ("old-publisher/Stale-GGUF", "old-publisher/stale-gguf")
DELETED = "fresh-publisher/Deleted-GGUF"
MISLABELLED = "fresh-publisher/Mislabelled-GGUF"
FILE_TYPE_LAST = "fresh-publisher/Quantized-2025-GGUF"
POINTER = "fresh-publisher/Pointer-GGUF"
POINTER_FILE = "pointer-Q4_K_M.gguf"
MALFORMED = 3

LISTING, FILES, COMPLETENESS, CATALOGUE = (
    "gguf_model_listing",
    "gguf_model_files",
    "gguf_model_completeness",
    "gguf_catalogue",
)

BLOCKING = {
    "no_duplicate_keys": LISTING,
    "files_verified": FILES,
    "completeness_meets_minimum": COMPLETENESS,
}
"""Blocking check -> the asset it checks."""
NOT_BLOCKING = {
    "file_types_match_names": dg.AssetCheckSeverity.WARN,
    "rejects_below_bound": dg.AssetCheckSeverity.WARN,
    "listed_equals_catalogued": dg.AssetCheckSeverity.ERROR,
}
"""Check that does not block -> its severity."""
DOWNSTREAM = {
    LISTING: (FILES, COMPLETENESS, CATALOGUE),
    FILES: (COMPLETENESS, CATALOGUE),
    COMPLETENESS: (CATALOGUE,),
}
WHY = {
    "completeness_meets_minimum": (
        r"mean completeness 0\.\d+ >= validation\.min_completeness_score 0\.5; 1 of \d+ repos \([\d.]+%\) "
        r"below it, > validation\.max_share_below_minimum 5\.0%; why: no file tree \(1 repo\); worst: "
        + re.escape(f"{BROKEN_TREE} 0.20 (no file tree)")
    ),
    "no_duplicate_keys": re.escape(
        f"repo ids present more than once, compared without case: 1 ({' = '.join(SPELLINGS)})"
    ),
    "files_verified": r"model files failing verification .*: 1 of \d+; .*: "
    + re.escape(f"{POINTER}/{POINTER_FILE}; header reads: 1 x not a readable GGUF header"),
    "file_types_match_names": r"file names whose quantization their header contradicts: 1 of \d+: "
    + re.escape(f"{MISLABELLED}/Model-Q4_K_M.gguf (name Q4_K_M, header Q8_0)")
    + r"; not compared, the file type being after the tokenizer: [1-9]\d*",
    "rejects_below_bound": re.escape(f"records rejected in this run: {MALFORMED}, above the bound of 1"),
    "listed_equals_catalogued": re.escape(
        f"present in the window but not listed (gone from the Hub?): {DELETED}"
    ),
}
"""Check -> what its description must say."""


@dataclass(frozen=True)
class Failed:
    """A scenario's sync, in which its check failed."""

    pipeline: Pipeline
    run: SyncRun

    def evaluation(self, check: str) -> dg.AssetCheckEvaluation:
        [found] = [e for e in self.run.result.get_asset_check_evaluations() if e.check_name == check]
        return found


class Scenarios:
    """The scenarios of this module, each run once, on first use."""

    def __init__(
        self, stack: contextlib.ExitStack, folders: pytest.TempPathFactory, instance: dg.DagsterInstance
    ) -> None:
        self.stack = stack
        self.folders = folders
        self.instance = instance
        self.done: dict[str, Failed] = {}

    def pipeline(self, name: str, overrides: dict[str, Any] | None = None, **simulator: Any) -> Pipeline:
        """A new simulator with the fresh repos, and a new catalogue synced from it."""
        sim = start_simulator(REPOS, SEED, **simulator)
        self.stack.callback(sim.stop)
        for repo_id in FRESH:
            sim.add(repo_id, tags=TAGS)
        return Pipeline(sim, self.folders.mktemp(name), self.instance, **{**REACHABLE, **(overrides or {})})

    def failed(self, check: str) -> Failed:
        if check not in self.done:
            self.done[check] = SCENARIOS[check](self)
        return self.done[check]


def synced(pipeline: Pipeline) -> SyncRun:
    """A sync that must succeed: the ground a scenario builds on."""
    run = pipeline.sync(SyncMode.INCREMENTAL)
    assert run.success, run.log
    return run


def tree_lost(scenarios: Scenarios) -> Failed:
    # One repo of the few in the window loses its file tree: the mean stays above the minimum, the
    # share of repos below it does not.
    pipeline = scenarios.pipeline("completeness")
    pipeline.sim.add(BROKEN_TREE, tags=TAGS, files=[gguf_file("Model-Q4_K_M.gguf")], gated=False)
    pipeline.sim.faults.script(
        "error", count=1_000, status=500, path_prefix=f"/api/models/{BROKEN_TREE}/tree"
    )
    return Failed(pipeline, pipeline.sync(SyncMode.INCREMENTAL))


def two_spellings_in_the_catalogue(scenarios: Scenarios) -> Failed:
    # Two spellings of a repo last modified long ago, outside the incremental window.
    pipeline = scenarios.pipeline("duplicates")
    synced(pipeline)
    with pipeline.store.writer() as writer:
        for spelling in SPELLINGS:
            writer.con.execute(
                "INSERT INTO models BY NAME SELECT * REPLACE (? AS repo_id, ? AS last_modified) "
                "FROM models WHERE repo_id = ?",
                [spelling, "2024-01-01 00:00:00+00", FRESH[0]],
            )
    return Failed(pipeline, pipeline.sync(SyncMode.INCREMENTAL))


def malformed_records(scenarios: Scenarios) -> Failed:
    # Listing pages of two records: each malformed page of the tag's listing (its pages come one
    # after another, the other strategies' beside them) breaks one record of a different repo.
    pipeline = scenarios.pipeline("rejects", max_page_size=2)
    pipeline.sim.faults.script(
        "malformed", count=MALFORMED, path_prefix="/api/models", query={"filter": "gguf"}
    )
    return Failed(pipeline, pipeline.sync(SyncMode.INCREMENTAL))


def deleted_between_syncs(scenarios: Scenarios) -> Failed:
    pipeline = scenarios.pipeline("deleted")
    pipeline.sim.add(DELETED, tags=TAGS)
    synced(pipeline)
    pipeline.sim.delete(DELETED)
    return Failed(pipeline, pipeline.sync(SyncMode.INCREMENTAL))


def mislabelled_file(scenarios: Scenarios) -> Failed:
    # A Q8_0 file uploaded under a Q4_K_M name: its header says what it really is.
    pipeline = scenarios.pipeline("mislabelled", {"gguf_headers.read": True})
    pipeline.sim.add(
        MISLABELLED, tags=TAGS, files=[gguf_file("Model-Q4_K_M.gguf", quant="Q8_0")], gated=False
    )
    # And a file whose header states its type only after the tokenizer: not compared, and said so.
    late = gguf_file("Model-Q4_K_M.gguf", file_type_last=True)
    pipeline.sim.add(FILE_TYPE_LAST, tags=TAGS, files=[late], gated=False)
    return Failed(pipeline, pipeline.sync(SyncMode.INCREMENTAL))


def lfs_pointer_as_gguf(scenarios: Scenarios) -> Failed:
    # A .gguf file committed without Git LFS: the repo holds the pointer text, not the model.
    pipeline = scenarios.pipeline(
        "files", {"validation.enable_file_verification": True, "gguf_headers.read": True}
    )
    pointer = lfs_pointer("0" * 64, 4_683_073_248)
    pipeline.sim.add(POINTER, tags=TAGS, files=[small_file(POINTER_FILE, pointer)], gated=False)
    return Failed(pipeline, pipeline.sync(SyncMode.INCREMENTAL))


SCENARIOS: dict[str, Callable[[Scenarios], Failed]] = {
    "completeness_meets_minimum": tree_lost,
    "no_duplicate_keys": two_spellings_in_the_catalogue,
    "rejects_below_bound": malformed_records,
    "listed_equals_catalogued": deleted_between_syncs,
    "files_verified": lfs_pointer_as_gguf,
    "file_types_match_names": mislabelled_file,
}
CHECKS = sorted(SCENARIOS)


@pytest.fixture(scope="module")
def scenarios(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    with contextlib.ExitStack() as stack, sync_instance() as instance:
        yield Scenarios(stack, tmp_path_factory, instance)


def test_every_check_the_sync_defines_has_a_scenario(tmp_path: Path) -> None:
    resource = SyncResource(
        config_dir=str(copy_config(tmp_path / "config")),
        overrides_json=json.dumps({"validation.enable_file_verification": True}),
    )
    graph = build_definitions(resource).resolve_asset_graph()
    assert {key.name for key in graph.asset_check_keys} == set(SCENARIOS)


@pytest.mark.parametrize("check", CHECKS)
def test_each_check_fails_with_a_description_saying_why(scenarios: Scenarios, check: str) -> None:
    evaluation = scenarios.failed(check).evaluation(check)
    assert evaluation.passed is False
    assert evaluation.description is not None
    assert re.search(WHY[check], evaluation.description), evaluation.description


@pytest.mark.parametrize("check", CHECKS)
def test_each_scenario_fails_its_own_check_and_no_other(scenarios: Scenarios, check: str) -> None:
    assert {name for name, passed in scenarios.failed(check).run.check_results().items() if not passed} == {
        check
    }


@pytest.mark.parametrize("check", sorted(BLOCKING))
def test_a_failing_blocking_check_fails_the_run_at_its_assets_step(scenarios: Scenarios, check: str) -> None:
    run = scenarios.failed(check).run
    assert not run.success
    assert scenarios.failed(check).evaluation(check).severity is dg.AssetCheckSeverity.ERROR
    failed = {e.step_key for e in run.result.all_events if e.is_step_failure}
    assert failed == {BLOCKING[check]}


@pytest.mark.parametrize("check", sorted(BLOCKING))
def test_a_failing_blocking_check_skips_the_assets_downstream_of_it(scenarios: Scenarios, check: str) -> None:
    run = scenarios.failed(check).run
    checked = BLOCKING[check]
    downstream = DOWNSTREAM[checked]
    assert checked in run.executed_steps()
    assert not run.executed_steps() & set(downstream)
    for asset in downstream:
        assert run.result.asset_materializations_for_node(asset) == []
    [first] = downstream[:1]
    assert any(
        line.startswith(f"Dependencies for step {first} failed") and "Not executing" in line
        for line in run.log
    )


@pytest.mark.parametrize("check", sorted(BLOCKING))
def test_a_failing_blocking_check_records_why_in_sync_runs(scenarios: Scenarios, check: str) -> None:
    failed = scenarios.failed(check)
    [(status, error)] = rows_of(
        failed.pipeline.store.working,
        "SELECT status, error FROM sync_runs WHERE run_id = ?",
        failed.run.run_id,
    )
    assert status == "failed"
    assert error == f"blocking check {check} failed: {failed.evaluation(check).description}"


@pytest.mark.parametrize("check", sorted(NOT_BLOCKING))
def test_a_failing_check_that_does_not_block_lets_the_run_publish(scenarios: Scenarios, check: str) -> None:
    failed = scenarios.failed(check)
    assert failed.run.success
    assert failed.evaluation(check).severity is NOT_BLOCKING[check]
    assert {LISTING, FILES, COMPLETENESS, CATALOGUE} <= failed.run.executed_steps()
    assert failed.run.result.asset_materializations_for_node(CATALOGUE)
    assert failed.run.rows("SELECT status FROM sync_runs WHERE run_id = ?", failed.run.run_id) == [
        ("succeeded",)
    ]


def test_a_repo_renamed_by_case_is_one_repo_after_the_sync(scenarios: Scenarios) -> None:
    pipeline = scenarios.pipeline("renamed")
    old, new = RENAMED
    pipeline.sim.add(old, tags=TAGS)
    synced(pipeline)
    repo = pipeline.sim.delete(old)
    pipeline.sim.add(new, tags=repo.tags, files=repo.files, card_data=repo.card_data, gguf=repo.gguf)
    run = synced(pipeline)
    present = {repo_id for (repo_id,) in run.rows("SELECT repo_id FROM current_models")}
    assert new in present
    assert old not in present
    assert run.rows("SELECT change FROM model_history WHERE repo_id = ? ORDER BY changed_at", old) == [
        ("added",),
        ("removed",),
    ]
