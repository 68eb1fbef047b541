"""A full sync replaces the whole published catalogue, so it backs up the one it replaces first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ggufsync_assets.catalogue.backups import Backup, CatalogueBackups, row_counts
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.catalogue.conftest import publish_repos
from ggufsync_tests.pipeline.conftest import NO_HEADER_READS, Pipeline, SyncRun, running_pipeline

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
