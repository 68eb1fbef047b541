"""Backups of the published catalogue, taken while readers and a sync run, restored only once verified.

The published file is only ever replaced by rename (CatalogueStore.publish), never written in place,
so a backup opens it once and copies from that descriptor: a publish during the copy moves the name
to a new file and leaves the one being read whole. The copy is opened in DuckDB before it is kept, and
its row counts come from the copy, not from the source.

A backup is a file in `backups/` beside the catalogue (gzip-compressed under
storage.enable_compression) and a JSON manifest beside it: when, from where, size, SHA-256 and the
row count of every table. Both are written under temporary names, mode 0600 from creation, and
renamed into place, the manifest first: a backup file under a real name is always whole and always
described. A restore checks all of that before it replaces anything.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import duckdb

from ggufsync_assets.catalogue.contract import TABLES
from ggufsync_assets.catalogue.lease import CatalogueBusy
from ggufsync_assets.catalogue.snapshot import open_snapshot
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.files import atomic_write, sync_directory
from ggufsync_assets.settings import Settings

PRIVATE_MODE = 0o600
FOLDER_MODE = 0o700
PUBLISHED_MODE = 0o644
"""What CatalogueStore.publish gives the published file; a restored one gets the same."""
CHUNK_BYTES = 1 << 20
GZIP = ".gz"
GZIP_LEVEL = 6
"""zlib's default level, not gzip's 9: DuckDB compresses its columns already, and on a 20 MB catalogue
level 9 took a quarter longer for 0.01 % less size (the weekly full sync waits for its backup)."""
MANIFEST = ".json"
STAMP = "%Y%m%d_%H%M%S"
TABLE_NAMES = tuple(table.name for table in TABLES)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class BackupError(Exception):
    """A backup that cannot be taken, found or trusted; the message is one line for the operator."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds, recorded when it was taken and checked again before it is restored."""

    taken_at: datetime
    source: str
    reason: str | None
    compression: str | None
    size_bytes: int
    """The backup file as stored (compressed or not); `sha256` is of these bytes."""
    sha256: str
    database_bytes: int
    """The catalogue file itself; `database_sha256` is of these bytes."""
    database_sha256: str
    tables: dict[str, int] | None
    """Row count per table; None when the source did not open (kept, but never restored)."""
    problem: str | None = None

    def to_json(self) -> str:
        data = asdict(self) | {"taken_at": self.taken_at.isoformat(timespec="seconds")}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        data: dict[str, Any] = json.loads(path.read_text())
        data["taken_at"] = datetime.fromisoformat(data["taken_at"])
        return cls(**data)


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: Manifest | None
    """None when the manifest is missing or unreadable: the backup is listed but not restored."""
    stamp: datetime
    """The UTC time in the file's name."""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)

    @property
    def taken_at(self) -> datetime:
        """As recorded in the manifest (the name's time only when there is no manifest)."""
        return self.manifest.taken_at if self.manifest else self.stamp

    def count(self, table: str) -> int | None:
        return self.manifest.tables.get(table) if self.manifest and self.manifest.tables else None


@dataclass(frozen=True)
class Restored:
    backup: Backup
    previous: Backup | None
    """The backup of the catalogue the restore replaced (None when there was none)."""


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST)


class CatalogueBackups:
    """The backups of one published catalogue, in `backups/` beside it."""

    def __init__(
        self,
        store: CatalogueStore,
        *,
        compress: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.published = store.published
        self.folder = store.published.parent / "backups"
        self.compress = compress
        self._clock = clock
        stem, suffix = re.escape(self.published.stem), re.escape(self.published.suffix)
        self._pattern = re.compile(rf"^{stem}_(\d{{8}}_\d{{6}})(?:_\d+)?{suffix}(?:{re.escape(GZIP)})?$")

    @classmethod
    def from_settings(cls, settings: Settings) -> CatalogueBackups:
        return cls(CatalogueStore.from_settings(settings), compress=settings.storage.enable_compression)

    # ----- taking ------------------------------------------------------------------------------

    def take(self, *, reason: str | None = None, require_readable: bool = True) -> Backup:
        """Copy the published catalogue as it is now into a new backup.

        A copy that does not open in DuckDB is refused, unless `require_readable` is off (a restore
        keeps even a damaged catalogue before replacing it); such a backup is never restored.
        """
        taken_at = self._clock().astimezone(UTC).replace(microsecond=0)
        self.folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        try:
            source = open(self.published, "rb")  # noqa: SIM115 - closed by the `with` below
        except FileNotFoundError:
            raise BackupError(f"no catalogue at {self.published} to back up") from None
        with contextlib.ExitStack() as stack:
            stack.enter_context(source)
            copy = stack.enter_context(_temporary(self.folder))
            expected = os.fstat(source.fileno()).st_size
            with open(copy, "wb") as sink:
                database_bytes, database_sha256 = _copy(source, sink)
            if database_bytes != expected:
                raise BackupError(f"{self.published} changed size while it was copied; nothing was kept")
            tables: dict[str, int] | None = None
            problem = None
            try:
                tables = row_counts(copy)
            except BackupError as exc:
                if require_readable:
                    raise BackupError(f"the catalogue {self.published} {exc}; no backup was kept") from None
                problem = str(exc)
            stored = copy
            if self.compress:
                stored = stack.enter_context(_temporary(self.folder))
                with open(copy, "rb") as raw, open(stored, "wb") as packed:
                    with gzip.GzipFile("", "wb", GZIP_LEVEL, packed, mtime=0) as sink:
                        shutil.copyfileobj(raw, sink, CHUNK_BYTES)
                    packed.flush()
                    os.fsync(packed.fileno())
            size_bytes, sha256 = _digest(stored) if self.compress else (database_bytes, database_sha256)
            manifest = Manifest(
                taken_at=taken_at,
                source=os.path.abspath(self.published),
                reason=reason,
                compression="gzip" if self.compress else None,
                size_bytes=size_bytes,
                sha256=sha256,
                database_bytes=database_bytes,
                database_sha256=database_sha256,
                tables=tables,
                problem=problem,
            )
            target = self._free_name(taken_at)
            atomic_write(manifest_path(target), manifest.to_json().encode(), PRIVATE_MODE)
            try:
                os.replace(stored, target)
            except BaseException:
                manifest_path(target).unlink(missing_ok=True)
                raise
            sync_directory(self.folder)
        return Backup(target, manifest, taken_at)

    def _free_name(self, taken_at: datetime) -> Path:
        """`<stem>_<UTC time>.duckdb[.gz]`, with `_1`, `_2`... when that second is taken already."""
        stamp, suffix = f"{self.published.stem}_{taken_at:{STAMP}}", self.published.suffix
        counter = 0
        while True:
            base = stamp + (f"_{counter}" if counter else "") + suffix
            taken = (
                self.folder / name for name in (base, base + GZIP, base + MANIFEST, base + GZIP + MANIFEST)
            )
            if not any(path.exists() for path in taken):
                return self.folder / (base + (GZIP if self.compress else ""))
            counter += 1

    # ----- reading -----------------------------------------------------------------------------

    def backups(self) -> list[Backup]:
        """Every backup in the folder, newest first (by the time its manifest records)."""
        found = []
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                match = self._pattern.match(path.name)
                if match and path.is_file():
                    stamp = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
                    found.append(Backup(path, _manifest_of(path), stamp))
        return sorted(found, key=lambda b: (b.taken_at, b.name), reverse=True)

    def find(self, name: str) -> Backup:
        """The backup `ggufsync catalogue list` names `name` (a bare name, never a path)."""
        for backup in self.backups():
            if backup.name == name:
                return backup
        raise BackupError(
            f"no backup named {name!r} in {self.folder}: `ggufsync catalogue list` shows their names"
        )

    # ----- pruning -----------------------------------------------------------------------------

    def prune(self, retention_days: int) -> list[Backup]:
        """Remove backups taken more than `retention_days` ago; the newest is always kept."""
        cutoff = self._clock() - timedelta(days=retention_days)
        removed = []
        for backup in self.backups()[1:]:
            if backup.taken_at < cutoff:
                backup.path.unlink(missing_ok=True)
                backup.manifest_path.unlink(missing_ok=True)
                removed.append(backup)
        return removed

    # ----- restoring ---------------------------------------------------------------------------

    def restore(self, name: str) -> Restored:
        """Make backup `name` the published catalogue.

        Everything is checked before anything changes: the manifest, the file's checksum, the
        catalogue's checksum once decompressed, that it opens, and its row counts. Then, holding
        the catalogue's lease (so no sync step interleaves), the current catalogue is backed up,
        the working file is removed (the next sync carries on from the restored catalogue, not
        from an older run's work) and the restored file is renamed over the published one.
        """
        backup = self.find(name)
        manifest = backup.manifest
        if manifest is None:
            raise BackupError(
                f"{name} has no readable manifest, so it cannot be verified; nothing was changed"
            )
        if manifest.tables is None:
            raise BackupError(f"{name} was taken of a catalogue that did not open; nothing was changed")
        self.published.parent.mkdir(parents=True, exist_ok=True)
        with _temporary(self.published.parent) as candidate:
            self._unpack(backup, manifest, candidate)
            try:
                counts = row_counts(candidate)
            except BackupError as exc:
                raise BackupError(f"{name} {exc}; nothing was changed") from None
            if counts != manifest.tables:
                differ = ", ".join(
                    f"{t} {counts.get(t)} (recorded {manifest.tables.get(t)})"
                    for t in TABLE_NAMES
                    if counts.get(t) != manifest.tables.get(t)
                )
                raise BackupError(
                    f"{name} does not hold the rows its manifest records: {differ}; nothing was changed"
                )
            run_id = f"restore-{self._clock().astimezone(UTC):{STAMP}}"
            try:
                self.store.lease.try_claim(run_id)
            except CatalogueBusy as busy:
                raise BackupError(f"{busy}; restore once it has finished (nothing was changed)") from None
            try:
                previous = None
                if self.published.exists():
                    previous = self.take(reason=f"before restoring {name}", require_readable=False)
                os.chmod(candidate, PUBLISHED_MODE)
                for stale in (
                    self.store.working,
                    self.store.working.with_name(self.store.working.name + ".wal"),
                ):
                    stale.unlink(missing_ok=True)
                os.replace(candidate, self.published)
                sync_directory(self.published.parent)
            finally:
                self.store.release(run_id)
        return Restored(backup, previous)

    def _unpack(self, backup: Backup, manifest: Manifest, target: Path) -> None:
        """The catalogue file out of `backup` into `target`, each checksum compared on the way."""
        size, sha256 = _digest(backup.path)
        if (size, sha256) != (manifest.size_bytes, manifest.sha256):
            raise BackupError(
                f"{backup.name} is damaged: its size or SHA-256 differs from its manifest; nothing was changed"
            )
        try:
            with contextlib.ExitStack() as stack:
                raw = stack.enter_context(open(backup.path, "rb"))
                source: Readable = raw
                if manifest.compression == "gzip":
                    source = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
                elif manifest.compression is not None:
                    raise BackupError(
                        f"{backup.name} uses compression {manifest.compression!r}, unknown here"
                    )
                with open(target, "wb") as sink:
                    database = _copy(source, sink)
        except (OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"{backup.name} does not decompress ({exc}); nothing was changed") from None
        if database != (manifest.database_bytes, manifest.database_sha256):
            raise BackupError(
                f"{backup.name} does not decompress to the catalogue its manifest records; nothing was changed"
            )


def row_counts(path: Path) -> dict[str, int]:
    """The row count of every catalogue table in the DuckDB file at `path`, opened read-only."""
    try:
        with open_snapshot(path) as con:
            return {
                name: int(con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])  # noqa: S608 - our names
                for name in TABLE_NAMES
            }
    except duckdb.Error as exc:
        raise BackupError(f"does not open as a catalogue ({str(exc).splitlines()[0]})") from None


def _manifest_of(backup: Path) -> Manifest | None:
    try:
        return Manifest.read(manifest_path(backup))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _copy(source: Readable, sink: IO[bytes]) -> tuple[int, str]:
    """Copy to the end, then fsync; returns the bytes copied and their SHA-256."""
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK_BYTES):
        sink.write(chunk)
        digest.update(chunk)
        size += len(chunk)
    sink.flush()
    os.fsync(sink.fileno())
    return size, digest.hexdigest()


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


@contextlib.contextmanager
def _temporary(folder: Path) -> Iterator[Path]:
    """A new empty file in `folder`, mode 0600 from creation (mkstemp), removed unless renamed away.
    Its name starts with a dot and ends .tmp, so no listing takes it for a backup."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".backup.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
