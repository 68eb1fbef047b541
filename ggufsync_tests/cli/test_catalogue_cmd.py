"""`ggufsync catalogue backup | list | restore NAME | prune`: what an operator types and reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ggufsync_assets.catalogue.backups import CatalogueBackups
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.common import EXIT_OK, EXIT_USAGE
from ggufsync_assets.cli.main import main
from ggufsync_tests.catalogue.conftest import publish_repos

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def store(tmp_path: Path) -> CatalogueStore:
    """A published catalogue of two repos."""
    store = CatalogueStore(tmp_path / "data" / "catalogue.duckdb")
    publish_repos(store, "bartowski/A-GGUF", "unsloth/B-GGUF")
    return store


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], store: CatalogueStore, bare_config_dir: Path) -> Run:
    def command(*argv: str) -> tuple[int, str, str]:
        code = main(["catalogue", *argv, "--catalogue", str(store.published)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return command


def taken_days_ago(store: CatalogueStore, days: int) -> str:
    """A backup as if it had been taken `days` ago; its name."""
    clock = lambda: datetime.now(UTC) - timedelta(days=days)  # noqa: E731
    return CatalogueBackups(store, compress=True, clock=clock).take().name


def test_backup_says_where_the_backup_went_and_what_it_holds(run: Run, store: CatalogueStore) -> None:
    code, out, _ = run("backup")
    assert code == EXIT_OK
    assert f"backed up {store.published} to {store.published.parent / 'backups'}/catalogue_" in out
    assert "2 models, 2 files" in out


def test_list_shows_name_time_size_and_counts_newest_first(run: Run, store: CatalogueStore) -> None:
    older, newer = taken_days_ago(store, 2), taken_days_ago(store, 1)
    code, out, _ = run("list")
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].endswith("(2):")
    assert newer in lines[1]
    assert older in lines[2]
    assert " UTC " in lines[1]
    assert " bytes " in lines[1]
    assert lines[1].endswith("2 models, 2 files")


def test_list_without_backups_says_how_to_take_one(run: Run) -> None:
    code, out, _ = run("list")
    assert code == EXIT_OK
    assert "`ggufsync catalogue backup`" in out


def test_restore_names_the_backup_of_the_replaced_catalogue_and_what_it_restored(
    run: Run, store: CatalogueStore
) -> None:
    name = taken_days_ago(store, 1)
    publish_repos(store, "someone/C-GGUF")
    code, out, _ = run("restore", name)
    assert code == EXIT_OK
    assert "backed up the catalogue it replaces to" in out
    assert f"restored {name} -> {store.published} (2 models, 2 files)" in out


def test_restore_of_an_unknown_name_is_one_line_that_says_how_to_see_names(run: Run) -> None:
    code, out, err = run("restore", "catalogue_20000101_000000.duckdb")
    assert code == EXIT_USAGE
    assert out == ""
    assert len(err.splitlines()) == 1
    assert "`ggufsync catalogue list` shows their names" in err


def test_restore_of_a_damaged_backup_is_one_line_and_leaves_the_catalogue_alone(
    run: Run, store: CatalogueStore
) -> None:
    name = taken_days_ago(store, 1)
    backup = store.published.parent / "backups" / name
    backup.write_bytes(backup.read_bytes()[:-10])
    before = store.published.read_bytes()
    code, _, err = run("restore", name)
    assert code == EXIT_USAGE
    assert len(err.splitlines()) == 1
    assert "is damaged" in err
    assert store.published.read_bytes() == before


def test_prune_prints_what_it_removed_and_the_retention(run: Run, store: CatalogueStore) -> None:
    old = taken_days_ago(store, 40)
    kept = taken_days_ago(store, 1)
    code, out, _ = run("prune", "--set", "storage.backup_retention_days=30")
    assert code == EXIT_OK
    assert old in out
    assert kept not in out
    assert "1 removed, 1 kept (retention 30 days" in out
