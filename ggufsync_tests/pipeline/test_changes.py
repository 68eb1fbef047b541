"""The Hub changes between syncs: what incremental and full syncs see, fetch and record.

One simulator and one catalogue go through, in order: a full sync; a second full sync of the
unchanged Hub; an edit, an addition and a deletion on the Hub; an incremental sync; a full sync.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ggufsync_assets.hubsim import Repo, gguf_file
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.hub_fixtures import is_gguf_file
from ggufsync_tests.pipeline.conftest import (
    LISTING_PATH,
    NO_HEADER_READS,
    Pipeline,
    SyncRun,
    running_pipeline,
)

REPOS = 80
SEED = 23


@dataclass(frozen=True)
class HubChanges:
    edited: Repo
    edited_from: str
    """The edited repo's sha before the edit."""
    added: Repo
    deleted: Repo


@pytest.fixture(scope="module")
def pipeline(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with running_pipeline(tmp_path_factory, "changes", REPOS, SEED, **NO_HEADER_READS) as pipeline:
        yield pipeline


@pytest.fixture(scope="module")
def first_full(pipeline: Pipeline) -> SyncRun:
    return pipeline.sync(SyncMode.FULL)


@pytest.fixture(scope="module")
def second_full(pipeline: Pipeline, first_full: SyncRun) -> SyncRun:
    return pipeline.sync(SyncMode.FULL)


@pytest.fixture(scope="module")
def changes(pipeline: Pipeline, second_full: SyncRun) -> HubChanges:
    window_start = datetime.now(UTC) - timedelta(
        hours=pipeline.settings().sync_behavior.incremental_window_hours
    )
    # Repos older than the incremental window: before its edit, only full syncs list either one.
    old = sorted(
        (r for r in second_full.truth.values() if r.last_modified < window_start - timedelta(days=2)),
        key=lambda r: r.id,
    )
    edited = pipeline.sim.edit(old[0].id)
    deleted = pipeline.sim.delete(old[1].id)
    added = pipeline.sim.add(
        "fresh-publisher/Brand-New-7B-GGUF",
        tags=("gguf", "text-generation"),
        files=[gguf_file("brand-new-7b-Q4_K_M.gguf"), gguf_file("brand-new-7b-Q8_0.gguf", quant="Q8_0")],
    )
    return HubChanges(edited, old[0].sha, added, deleted)


@pytest.fixture(scope="module")
def incremental(pipeline: Pipeline, changes: HubChanges) -> SyncRun:
    return pipeline.sync(SyncMode.INCREMENTAL)


@pytest.fixture(scope="module")
def final_full(pipeline: Pipeline, incremental: SyncRun) -> SyncRun:
    return pipeline.sync(SyncMode.FULL)


# ----- a full sync of an unchanged Hub ----------------------------------------------------------


def test_a_second_full_sync_of_an_unchanged_hub_makes_only_listing_requests(second_full: SyncRun) -> None:
    assert second_full.success
    assert second_full.requests
    assert {r.path for r in second_full.requests} == {LISTING_PATH}
    assert second_full.tree_requests == set()


def test_a_second_full_sync_of_an_unchanged_hub_reports_every_repo_unchanged(
    first_full: SyncRun, second_full: SyncRun
) -> None:
    listing = second_full.figures("listing")
    repos = len(second_full.truth)
    assert (
        listing["listed"],
        listing["unchanged"],
        listing["new"],
        listing["changed"],
        listing["restored"],
    ) == (
        repos,
        repos,
        0,
        0,
        0,
    )
    assert second_full.figures("files")["refreshed"] == 0
    assert second_full.rows(
        "SELECT repos_new, repos_changed, repos_refreshed, repos_removed, status FROM sync_runs WHERE run_id = ?",
        second_full.run_id,
    ) == [(0, 0, 0, 0, "succeeded")]
    assert second_full.rows("SELECT count(*) FROM model_history WHERE run_id = ?", second_full.run_id) == [
        (0,)
    ]
    assert second_full.rows(
        "SELECT * EXCLUDE (last_seen_at, last_synced_at) FROM models ORDER BY repo_id"
    ) == (first_full.rows("SELECT * EXCLUDE (last_seen_at, last_synced_at) FROM models ORDER BY repo_id"))


# ----- an incremental sync after an edit, an addition and a deletion ----------------------------


def test_an_incremental_sync_picks_up_the_edited_repos_new_sha_and_files(
    incremental: SyncRun, changes: HubChanges
) -> None:
    assert incremental.success
    edited = changes.edited
    assert incremental.rows(
        "SELECT sha, last_modified, files_sha FROM models WHERE repo_id = ?", edited.id
    ) == [(edited.sha, edited.last_modified, edited.sha)]
    found = set(incremental.rows("SELECT path, size_bytes FROM model_files WHERE repo_id = ?", edited.id))
    assert found == {(f.path, f.size) for f in edited.files if is_gguf_file(f.path)}


def test_an_incremental_sync_catalogues_the_added_repo(incremental: SyncRun, changes: HubChanges) -> None:
    added = changes.added
    assert incremental.rows(
        "SELECT sha, gguf_file_count, removed_at FROM models WHERE repo_id = ?", added.id
    ) == [(added.sha, 2, None)]
    paths = {p for (p,) in incremental.rows("SELECT path FROM model_files WHERE repo_id = ?", added.id)}
    assert paths == {"brand-new-7b-Q4_K_M.gguf", "brand-new-7b-Q8_0.gguf"}


def test_an_incremental_sync_fetches_trees_only_of_the_edited_and_added_repos(
    incremental: SyncRun, changes: HubChanges
) -> None:
    assert incremental.tree_requests == {changes.edited.id, changes.added.id}
    assert incremental.figures("files")["refreshed"] == 2


def test_an_incremental_sync_does_not_tombstone_the_deleted_repo(
    incremental: SyncRun, changes: HubChanges, second_full: SyncRun
) -> None:
    deleted = changes.deleted
    assert incremental.rows("SELECT sha, removed_at FROM models WHERE repo_id = ?", deleted.id) == [
        (deleted.sha, None)
    ]
    assert incremental.rows("SELECT count(*) FROM models WHERE removed_at IS NOT NULL") == [(0,)]
    assert incremental.rows(
        "SELECT complete_pass, repos_removed FROM sync_runs WHERE run_id = ?", incremental.run_id
    ) == [(False, 0)]


def test_an_incremental_sync_records_changed_and_added_history(
    incremental: SyncRun, changes: HubChanges
) -> None:
    history = incremental.rows(
        "SELECT repo_id, change, old_sha, new_sha FROM model_history WHERE run_id = ? ORDER BY change",
        incremental.run_id,
    )
    assert history == [
        (changes.added.id, "added", None, changes.added.sha),
        (changes.edited.id, "changed", changes.edited_from, changes.edited.sha),
    ]


# ----- a full sync after the deletion -----------------------------------------------------------


def test_a_full_sync_tombstones_the_deleted_repo_and_keeps_its_row(
    final_full: SyncRun, changes: HubChanges
) -> None:
    assert final_full.success
    [(sha, removed_at)] = final_full.rows(
        "SELECT sha, removed_at FROM models WHERE repo_id = ?", changes.deleted.id
    )
    assert sha == changes.deleted.sha
    assert removed_at is not None
    assert final_full.rows("SELECT repo_id FROM models WHERE removed_at IS NOT NULL") == [
        (changes.deleted.id,)
    ]
    present = {r for (r,) in final_full.rows("SELECT repo_id FROM current_models")}
    assert present == set(final_full.truth)


def test_a_full_sync_records_a_removed_history_row_for_the_deleted_repo(
    final_full: SyncRun, changes: HubChanges
) -> None:
    assert final_full.rows(
        "SELECT repo_id, change, old_sha, new_sha FROM model_history WHERE run_id = ?", final_full.run_id
    ) == [(changes.deleted.id, "removed", changes.deleted.sha, None)]
    assert final_full.rows("SELECT repos_removed FROM sync_runs WHERE run_id = ?", final_full.run_id) == [
        (1,)
    ]


def test_a_full_sync_fetches_no_tree_of_unchanged_repos(final_full: SyncRun) -> None:
    assert final_full.tree_requests == set()
    assert {r.path for r in final_full.requests} == {LISTING_PATH}
