"""Backups of the published catalogue: taken while it is read and republished, kept private, restored
only after every check passes, and never restored over a running sync."""

from __future__ import annotations

import gzip
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from ggufsync_assets.catalogue import backups as backups_module
from ggufsync_assets.catalogue.backups import (
    TABLE_NAMES,
    BackupError,
    CatalogueBackups,
    Readable,
    row_counts,
)
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_tests.catalogue.conftest import publish_repos

START = datetime(2026, 12, 1, 14, 30, 22, tzinfo=UTC)


class Clock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def published_count(store: CatalogueStore, table: str = "models") -> int:
    return row_counts(store.published)[table]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def published(store: CatalogueStore) -> CatalogueStore:
    """A published catalogue of two repos."""
    publish_repos(store, "bartowski/A-GGUF", "unsloth/B-GGUF")
    return store


@pytest.fixture
def backups(published: CatalogueStore, clock: Clock) -> CatalogueBackups:
    return CatalogueBackups(published, compress=True, clock=clock)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` and its subfolders, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_refused_changing_nothing(
    published: CatalogueStore, backups: CatalogueBackups, name: str, reason: str
) -> None:
    """Restoring `name` fails for `reason` (a regex), and the catalogue's folder is as it was."""
    before = snapshot(published.published.parent)
    with pytest.raises(BackupError, match=reason):
        backups.restore(name)
    assert snapshot(published.published.parent) == before


# ----- taking a backup ---------------------------------------------------------------------------


def test_a_backup_is_taken_while_a_reader_holds_the_catalogue_open(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    with published.reader() as reader:
        taken = backups.take()
        assert reader.sql("SELECT count(*) FROM models").fetchall() == [(2,)]
    assert taken.count("models") == 2


def test_a_publish_during_the_copy_does_not_tear_the_backup(
    published: CatalogueStore, backups: CatalogueBackups, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_copy = backups_module._copy

    def publish_meanwhile(source: Readable, sink: IO[bytes]) -> tuple[int, str]:
        publish_repos(published, "someone/C-GGUF", "someone/D-GGUF")  # renamed over the file being read
        return real_copy(source, sink)

    monkeypatch.setattr(backups_module, "_copy", publish_meanwhile)
    taken = backups.take()
    assert taken.count("models") == 2  # the catalogue as it was when the backup opened it
    assert published_count(published) == 4


def test_backup_files_are_mode_0600_from_the_moment_they_are_created(
    backups: CatalogueBackups, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes_while_writing = []
    real_copy = backups_module._copy

    def watching(source: Readable, sink: IO[bytes]) -> tuple[int, str]:
        modes_while_writing.append(stat.S_IMODE(os.fstat(sink.fileno()).st_mode))
        return real_copy(source, sink)

    monkeypatch.setattr(backups_module, "_copy", watching)
    taken = backups.take()
    assert modes_while_writing == [0o600]
    assert stat.S_IMODE(taken.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(taken.manifest_path.stat().st_mode) == 0o600


def test_backups_go_to_a_backups_folder_beside_the_catalogue_named_by_utc_time(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    assert taken.path == published.published.parent / "backups" / "catalogue_20261201_143022.duckdb.gz"
    assert taken.manifest_path.name == "catalogue_20261201_143022.duckdb.gz.json"


def test_two_backups_in_one_second_get_distinct_names(backups: CatalogueBackups) -> None:
    first, second = backups.take(), backups.take()
    assert first.name != second.name
    assert {b.name for b in backups.backups()} == {first.name, second.name}


def test_a_backup_is_gzip_compressed_when_storage_enable_compression_is_on(
    published: CatalogueStore, clock: Clock
) -> None:
    taken = CatalogueBackups(published, compress=True, clock=clock).take()
    assert taken.name.endswith(".duckdb.gz")
    assert taken.manifest is not None
    assert taken.manifest.compression == "gzip"
    assert gzip.decompress(taken.path.read_bytes()) == published.published.read_bytes()


def test_a_backup_is_a_plain_duckdb_file_when_storage_enable_compression_is_off(
    published: CatalogueStore, clock: Clock
) -> None:
    taken = CatalogueBackups(published, compress=False, clock=clock).take()
    assert taken.name.endswith(".duckdb")
    assert taken.manifest is not None
    assert taken.manifest.compression is None
    assert row_counts(taken.path)["models"] == 2


def test_the_manifest_records_time_source_size_checksums_and_the_row_count_of_every_table(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    manifest = json.loads(taken.manifest_path.read_text())
    assert manifest["taken_at"] == "2026-12-01T14:30:22+00:00"
    assert manifest["source"] == str(published.published)
    assert manifest["size_bytes"] == taken.path.stat().st_size
    assert manifest["sha256"] == backups_module._digest(taken.path)[1]
    assert manifest["database_sha256"] == backups_module._digest(published.published)[1]
    assert set(manifest["tables"]) == set(TABLE_NAMES)
    assert manifest["tables"] == row_counts(published.published)
    assert manifest["tables"]["models"] == 2
    assert manifest["tables"]["model_files"] == 2


def test_the_settings_choose_the_folder_and_the_compression(tmp_path: Path) -> None:
    from ggufsync_assets.settings import Settings  # noqa: PLC0415

    settings = Settings.model_validate(
        {"storage": {"catalogue_path": str(tmp_path / "x" / "cat.duckdb"), "enable_compression": False}}
    )
    backups = CatalogueBackups.from_settings(settings)
    assert backups.folder == tmp_path / "x" / "backups"
    assert not backups.compress


def test_a_missing_catalogue_is_not_backed_up(store: CatalogueStore, clock: Clock) -> None:
    with pytest.raises(BackupError, match="no catalogue at"):
        CatalogueBackups(store, compress=True, clock=clock).take()


def test_a_catalogue_that_does_not_open_leaves_no_backup(store: CatalogueStore, clock: Clock) -> None:
    store.published.write_bytes(b"not a database" * 100)
    backups = CatalogueBackups(store, compress=True, clock=clock)
    with pytest.raises(BackupError, match="does not open as a catalogue"):
        backups.take()
    assert list(backups.folder.iterdir()) == []


# ----- listing and pruning -----------------------------------------------------------------------


def test_backups_are_listed_newest_first(backups: CatalogueBackups, clock: Clock) -> None:
    taken = []
    for _ in range(3):
        taken.append(backups.take().name)
        clock.advance(hours=1)
    assert [b.name for b in backups.backups()] == list(reversed(taken))


def test_prune_removes_backups_older_than_the_retention_and_keeps_the_rest(
    backups: CatalogueBackups, clock: Clock
) -> None:
    old = backups.take()
    clock.advance(days=20)
    recent = backups.take()
    clock.advance(days=15)
    newest = backups.take()
    removed = backups.prune(retention_days=30)
    assert [b.name for b in removed] == [old.name]
    assert not old.path.exists()
    assert not old.manifest_path.exists()
    assert [b.name for b in backups.backups()] == [newest.name, recent.name]


def test_prune_always_keeps_the_newest_backup(backups: CatalogueBackups, clock: Clock) -> None:
    backups.take()
    clock.advance(days=1)
    newest = backups.take()
    clock.advance(days=400)
    backups.prune(retention_days=30)
    assert [b.name for b in backups.backups()] == [newest.name]


def test_prune_goes_by_the_recorded_time_not_the_file_time(backups: CatalogueBackups, clock: Clock) -> None:
    kept = backups.take()
    clock.advance(days=1)
    backups.take()
    ancient = (START - timedelta(days=3650)).timestamp()
    os.utime(kept.path, (ancient, ancient))
    assert backups.prune(retention_days=30) == []


# ----- restoring ---------------------------------------------------------------------------------


def test_restore_puts_the_backed_up_catalogue_back_in_place(
    published: CatalogueStore, backups: CatalogueBackups, clock: Clock
) -> None:
    taken = backups.take()
    original = published.published.read_bytes()
    publish_repos(published, "someone/C-GGUF")
    clock.advance(minutes=5)
    backups.restore(taken.name)
    assert published.published.read_bytes() == original
    assert stat.S_IMODE(published.published.stat().st_mode) == 0o644


def test_restore_backs_up_the_catalogue_it_replaces(
    published: CatalogueStore, backups: CatalogueBackups, clock: Clock
) -> None:
    taken = backups.take()
    publish_repos(published, "someone/C-GGUF")
    clock.advance(minutes=5)
    restored = backups.restore(taken.name)
    assert restored.previous is not None
    assert restored.previous.count("models") == 3
    assert restored.previous.manifest is not None
    assert restored.previous.manifest.reason == f"before restoring {taken.name}"


def test_after_a_restore_the_next_sync_carries_on_from_the_restored_catalogue(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    publish_repos(published, "someone/C-GGUF")  # the working file now holds three repos
    backups.restore(taken.name)
    assert not published.working.exists()
    with published.writer() as writer:
        assert writer.con.sql("SELECT count(*) FROM models").fetchall() == [(2,)]


def test_restore_holds_the_lease_only_while_it_replaces_the_catalogue(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    backups.restore(taken.name)
    assert published.lease.holder() is None


def test_restore_refuses_while_a_sync_holds_the_catalogue(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    publish_repos(published, "someone/C-GGUF")
    published.claim("sync-run-1")
    assert_refused_changing_nothing(published, backups, taken.name, "held by run sync-run-1")


@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "plain"])
def test_restore_of_a_corrupted_backup_changes_nothing(
    published: CatalogueStore, clock: Clock, compress: bool
) -> None:
    backups = CatalogueBackups(published, compress=compress, clock=clock)
    taken = backups.take()
    damaged = bytearray(taken.path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    taken.path.write_bytes(bytes(damaged))
    assert_refused_changing_nothing(published, backups, taken.name, "is damaged")


def test_restore_of_a_truncated_backup_changes_nothing_even_when_its_manifest_was_rewritten_to_match(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    taken.path.write_bytes(taken.path.read_bytes()[:-100])
    manifest = json.loads(taken.manifest_path.read_text())
    manifest["size_bytes"], manifest["sha256"] = backups_module._digest(taken.path)
    taken.manifest_path.write_text(json.dumps(manifest))
    assert_refused_changing_nothing(published, backups, taken.name, "does not decompress")


def test_restore_of_a_backup_whose_rows_differ_from_its_manifest_changes_nothing(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    manifest = json.loads(taken.manifest_path.read_text())
    manifest["tables"]["models"] = 99
    taken.manifest_path.write_text(json.dumps(manifest))
    assert_refused_changing_nothing(published, backups, taken.name, r"models 2 \(recorded 99\)")


def test_restore_of_a_backup_without_its_manifest_changes_nothing(
    published: CatalogueStore, backups: CatalogueBackups
) -> None:
    taken = backups.take()
    taken.manifest_path.unlink()
    assert_refused_changing_nothing(published, backups, taken.name, "no readable manifest")


def test_restore_of_an_unknown_name_says_how_to_see_the_names(backups: CatalogueBackups) -> None:
    backups.take()
    with pytest.raises(BackupError, match=r"no backup named 'nope.duckdb'.*ggufsync catalogue list"):
        backups.restore("nope.duckdb")


def test_restore_takes_no_path_for_a_name(backups: CatalogueBackups) -> None:
    taken = backups.take()
    with pytest.raises(BackupError, match="no backup named"):
        backups.restore(str(taken.path))


def test_restore_replaces_a_catalogue_that_no_longer_opens_and_keeps_a_copy_of_it(
    published: CatalogueStore, backups: CatalogueBackups, clock: Clock
) -> None:
    taken = backups.take()
    published.published.write_bytes(b"damaged" * 100)
    clock.advance(minutes=5)
    restored = backups.restore(taken.name)
    assert published_count(published) == 2
    assert restored.previous is not None
    assert restored.previous.manifest is not None
    assert restored.previous.manifest.tables is None
    with pytest.raises(BackupError, match="did not open"):
        backups.restore(restored.previous.name)
