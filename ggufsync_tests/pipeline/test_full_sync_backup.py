"""A full sync replaces the whole published catalogue, so it backs up the one it replaces first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from ggufsync_assets.catalogue.backups import Backup, CatalogueBackups, row_counts
from ggufsync_assets.defs.jobs import SYNC_JOB, sync_tags
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.catalogue.conftest import publish_repos
from ggufsync_tests.instances import sync_instance
from ggufsync_tests.pipeline.conftest import (
    NO_HEADER_READS,
    QUIET_RUN,
    Pipeline,
    SyncRun,
    build_definitions,
    rows_of,
    running_pipeline,
)

REPOS = 8
SEED = 47
BEFORE = ("earlier/First-GGUF", "earlier/Second-GGUF")
"""The repos of the catalogue published before the full sync (the simulator has neither)."""


@pytest.fixture(scope="module")
def pipeline(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with running_pipeline(tmp_path_factory, "full_sync_backup", REPOS, SEED, **NO_HEADER_READS) as pipeline:
        yield pipeline


@pytest.fixture(scope="module")
def before(pipeline: Pipeline) -> dict[str, int]:
    """A catalogue published by an earlier sync: its row counts."""
    publish_repos(pipeline.store, *BEFORE)
    return row_counts(pipeline.catalogue)


@pytest.fixture(scope="module")
def ancient(pipeline: Pipeline, before: dict[str, int]) -> Backup:
    """A backup taken long past the default retention (30 days)."""
    long_ago = datetime.now(UTC) - timedelta(days=400)
    return CatalogueBackups(pipeline.store, compress=True, clock=lambda: long_ago).take()


@pytest.fixture(scope="module")
def full(pipeline: Pipeline, ancient: Backup) -> SyncRun:
    return pipeline.sync(SyncMode.FULL)


def backups(pipeline: Pipeline) -> list[Backup]:
    return CatalogueBackups(pipeline.store, compress=True).backups()


def test_a_full_sync_backs_up_the_published_catalogue_before_it_publishes(
    pipeline: Pipeline, before: dict[str, int], full: SyncRun
) -> None:
    assert full.success
    newest = backups(pipeline)[0]
    assert newest.manifest is not None
    assert newest.manifest.tables == before
    assert row_counts(pipeline.catalogue) != before  # what the full sync published replaced it


def test_a_full_sync_logs_the_name_of_its_backup(pipeline: Pipeline, full: SyncRun) -> None:
    newest = backups(pipeline)[0]
    assert any(newest.name in line and "backed up the published catalogue" in line for line in full.log)


def test_a_full_sync_removes_backups_past_the_retention(
    pipeline: Pipeline, ancient: Backup, full: SyncRun
) -> None:
    assert ancient.name not in {b.name for b in backups(pipeline)}
    assert any(f"removed backup {ancient.name}" in line for line in full.log)


def test_an_incremental_sync_takes_no_backup(pipeline: Pipeline, full: SyncRun) -> None:
    kept = [b.name for b in backups(pipeline)]
    pipeline.sync(SyncMode.INCREMENTAL)
    assert [b.name for b in backups(pipeline)] == kept


# ----- a step retried after its run published ---------------------------------------------------

NO_STEP_RETRIES = {"error_handling.max_recovery_attempts": 0}
"""Dagster retries a failed step after the retry policy's delay (30 s, give or take as much): the
first try's run ends at its failure instead, and the test retries the step at once."""


@dataclass(frozen=True)
class Retried:
    """A full sync whose gguf_catalogue step published, failed writing the exports, and was retried
    under the same run id, in a catalogue folder of its own (no backups before the sync)."""

    pipeline: Pipeline
    before: dict[str, int]
    """The row counts of the catalogue published before the sync."""
    log: list[str]
    """The retried step's log."""


def retry_catalogue_step(pipeline: Pipeline, failed: SyncRun) -> list[str]:
    """Run the gguf_catalogue step again under the failed run's id, as Dagster's step retry does,
    and return its log. An instance holds one run per id, so the retry runs on one of its own."""
    resource = pipeline.resource(**NO_STEP_RETRIES)
    job = build_definitions(resource).resolve_job_def(SYNC_JOB)
    with sync_instance() as instance:
        result = job.execute_in_process(
            instance=instance,
            run_id=failed.run_id,
            asset_selection=[dg.AssetKey("gguf_catalogue")],
            tags=sync_tags(resource.load(), SyncMode.FULL, datetime.now(UTC)),
            raise_on_error=False,
            run_config=QUIET_RUN,
        )
        assert result.success
        return [
            entry.user_message for entry in instance.all_logs(result.run_id) if not entry.is_dagster_event
        ]


@pytest.fixture(scope="module")
def retried(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Retried:
    own = Pipeline(pipeline.sim, tmp_path_factory.mktemp("retried"), pipeline.instance, **NO_HEADER_READS)
    publish_repos(own.store, *BEFORE)
    before = row_counts(own.catalogue)
    blocker = own.catalogue.parent / "exports"
    blocker.write_text("a file where the exports folder goes: writing the exports fails\n")

    first = own.sync(SyncMode.FULL, **NO_STEP_RETRIES)

    assert not first.success
    assert rows_of(own.catalogue, "SELECT status FROM sync_runs WHERE run_id = ?", first.run_id) == [
        ("succeeded",)
    ]  # its gguf_catalogue step had published when the exports failed
    blocker.unlink()
    return Retried(own, before, retry_catalogue_step(own, first))


def test_a_full_sync_step_retried_after_it_published_takes_no_second_backup(retried: Retried) -> None:
    taken = backups(retried.pipeline)
    assert len(taken) == 1, [backup.name for backup in taken]
    assert taken[0].manifest is not None
    assert taken[0].manifest.tables == retried.before


def test_a_full_sync_step_retried_after_it_published_says_why_it_takes_no_second_backup(
    retried: Retried,
) -> None:
    assert "the published catalogue is already this run's own: no second backup" in retried.log
