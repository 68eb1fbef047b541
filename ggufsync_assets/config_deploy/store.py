"""The config folder as operators manage it: validate, create, deploy, back up, restore, prune.

Every change is validated before anything is written, lands by atomic rename (a reader sees the
old file or the new one, never half of one), and is preceded by a backup of what it replaces.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ggufsync_assets.config_deploy.audit import AuditLog
from ggufsync_assets.files import atomic_write
from ggufsync_assets.redaction import mask_value
from ggufsync_assets.settings import ConfigError, Environment, LoadedSettings, Problem, Settings
from ggufsync_assets.settings.layers import (
    active_file,
    environment_file,
    flatten,
    load_settings,
)
from ggufsync_assets.settings.profiles import render_profile

BACKUP_PATTERN = re.compile(r"^sync-config_backup_(\d{8}_\d{6})(?:_\d+)?\.yaml(?:\.gz)?$")
_ENV_FILE_PATTERN = re.compile(r"^sync-config-(.+)\.yaml$")
PRIVATE_MODE = 0o600
SHARED_MODE = 0o644
COMPRESS_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Backup:
    path: Path
    taken_at: datetime

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class FileStatus:
    path: Path
    environment: str | None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Inventory:
    environments: list[FileStatus]
    active: FileStatus | None
    active_matches: Path | None
    backups: list[Backup]


@dataclass
class _Audit:
    """What one audited action touched, and how it ended when it did not raise."""

    files: dict[str, Path] = field(default_factory=dict)
    outcome: str = "ok"


@dataclass(frozen=True)
class PruneResult:
    removed: list[Path]
    compressed: list[Path]
    kept: list[Path]


def _is_production(settings: Settings) -> bool:
    return settings.environment is Environment.PRODUCTION


class ConfigStore:
    def __init__(
        self,
        directory: Path,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audit_enabled: bool | None = None,
    ) -> None:
        self.directory = directory
        self.backups_dir = directory / "backups"
        self.active = active_file(directory)
        self._clock = clock
        enabled = self._audit_setting() if audit_enabled is None else audit_enabled
        self.audit_log = AuditLog(directory / "audit.log", enabled=enabled, clock=clock)

    def _audit_setting(self) -> bool:
        """Auditing follows the active configuration; when that cannot be read, audit anyway."""
        try:
            loaded = load_settings(config_file=self.active, directory=self.directory)
        except ConfigError:
            return True
        return loaded.settings.security.enable_audit_logging

    @contextlib.contextmanager
    def _audited(self, action: str, **arguments: Any) -> Iterator[_Audit]:
        audit = _Audit()
        try:
            yield audit
        except Exception as exc:
            self.audit_log.record(
                action, outcome="error", arguments=arguments, files=audit.files, error=str(exc)
            )
            raise
        self.audit_log.record(action, outcome=audit.outcome, arguments=arguments, files=audit.files)

    # ----- reading -------------------------------------------------------------------------

    def resolve(self, name: str | Path) -> Path:
        """A file as given, else the same name inside the config folder (the guide uses bare names)."""
        path = Path(name)
        if path.exists() or path.is_absolute():
            return path
        return self.directory / path

    def validate(self, path: Path) -> Settings:
        """A file on its own (defaults + file); an environment-named file must declare that environment."""
        expected = self._environment_in_name(path)
        settings = load_settings(config_file=path, use_environment=False, directory=self.directory).settings
        if expected is not None and settings.environment.value != expected:
            raise ConfigError(
                [
                    Problem(
                        str(path),
                        "environment",
                        f"the file name says '{expected}'",
                        settings.environment.value,
                    )
                ]
            )
        return settings

    @staticmethod
    def _environment_in_name(path: Path) -> str | None:
        match = _ENV_FILE_PATTERN.match(path.name)
        names = {e.value for e in Environment}
        return match.group(1) if match and match.group(1) in names else None

    def config_files(self) -> list[Path]:
        """The active file first, then every other sync-config-*.yaml in the folder."""
        others = sorted(p for p in self.directory.glob("sync-config-*.yaml") if p.is_file())
        return ([self.active] if self.active.is_file() else []) + others

    def exposure_warnings(self, paths: list[Path]) -> list[str]:
        """Production files readable by group or others; the guide asks for chmod 600."""
        warnings = []
        for path in paths:
            try:
                settings = self.validate(path)
            except ConfigError:
                continue
            mode = stat.S_IMODE(path.stat().st_mode)
            if _is_production(settings) and mode & 0o077:
                warnings.append(
                    f"{path} is a production file readable by others (mode {mode:04o}); chmod 600 it"
                )
        return warnings

    def effective(self, env: str | None, flags: dict[str, Any]) -> LoadedSettings:
        with self._audited("show", env=env, flags=sorted(flags)):
            return load_settings(env=env, flags=flags, directory=self.directory)

    def compare(self, left: Path, right: Path) -> list[tuple[str, Any, Any]]:
        """Differences in effective value by key path (defaults filled in, so omission == default)."""
        with self._audited("compare", left=str(left), right=str(right)) as audit:
            audit.files.update(left=left, right=right)
            a = flatten(self.validate(left).model_dump(mode="json"))
            b = flatten(self.validate(right).model_dump(mode="json"))
            return [
                (key, mask_value(key, a.get(key)), mask_value(key, b.get(key)))
                for key in dict.fromkeys([*a, *b])
                if a.get(key) != b.get(key)
            ]

    def backups(self) -> list[Backup]:
        found = []
        for path in self.backups_dir.glob("sync-config_backup_*"):
            match = BACKUP_PATTERN.match(path.name)
            if match and path.is_file():
                taken = datetime.strptime(match.group(1), "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
                found.append(Backup(path, taken))
        return sorted(found, key=lambda b: (b.taken_at, b.name))

    def inventory(self) -> Inventory:
        with self._audited("list"):
            environments = [self._status(environment_file(env, self.directory)) for env in Environment]
            active = self._status(self.active) if self.active.is_file() else None
            matches = None
            if active is not None:
                content = self.active.read_bytes()
                matches = next(
                    (s.path for s in environments if s.path.is_file() and s.path.read_bytes() == content),
                    None,
                )
            return Inventory(environments, active, matches, self.backups())

    def _status(self, path: Path) -> FileStatus:
        if not path.is_file():
            return FileStatus(path, None, [Problem(str(path), "", "file not found")])
        try:
            return FileStatus(path, self.validate(path).environment.value)
        except ConfigError as exc:
            return FileStatus(path, None, exc.problems)

    # ----- changing ------------------------------------------------------------------------

    def create(self, env: Environment, *, force: bool = False) -> Path:
        target = environment_file(env, self.directory)
        with self._audited("create", env=env.value, force=force) as audit:
            audit.files["target"] = target
            if target.exists() and not force:
                raise ConfigError(
                    [
                        Problem(
                            str(target),
                            "",
                            "already exists; use --force to overwrite it",
                            show_value=False,
                        )
                    ]
                )
            text = render_profile(env, self._clock().date())
            self.directory.mkdir(parents=True, exist_ok=True)
            mode = PRIVATE_MODE if env is Environment.PRODUCTION else SHARED_MODE
            atomic_write(target, text.encode(), mode)
            return target

    def backup(self) -> Path:
        with self._audited("backup") as audit:
            audit.files["active"] = self.active
            path = self._backup_active()
            audit.files["backup"] = path
            return path

    def _backup_active(self) -> Path:
        if not self.active.is_file():
            raise ConfigError(
                [Problem(str(self.active), "", "no active configuration to back up", show_value=False)]
            )
        self.backups_dir.mkdir(parents=True, exist_ok=True)
        stamp = self._clock().astimezone(UTC).strftime("%Y%m%d_%H%M%S")
        target = self.backups_dir / f"sync-config_backup_{stamp}.yaml"
        counter = 1
        while target.exists() or target.with_name(target.name + ".gz").exists():
            target = self.backups_dir / f"sync-config_backup_{stamp}_{counter}.yaml"
            counter += 1
        atomic_write(target, self.active.read_bytes(), PRIVATE_MODE)
        return target

    def deploy(self, env: Environment, *, source: Path | None = None, force: bool = False) -> Path | None:
        """Make `source` (default: that environment's file) the active configuration.

        Returns the backup of what it replaced. Validation cannot be skipped; --force only allows a
        file whose `environment:` differs from ENV.
        """
        source = source or environment_file(env, self.directory)
        with self._audited("deploy", env=env.value, source=str(source), force=force) as audit:
            audit.files["source"] = source
            audit.files["active"] = self.active
            settings = self.validate(source)
            if settings.environment is not env and not force:
                raise ConfigError(
                    [
                        Problem(
                            str(source),
                            "environment",
                            f"is not '{env.value}'; deploy the matching file, or --force if you mean it",
                            settings.environment.value,
                        )
                    ]
                )
            return self._replace_active(source.read_bytes(), settings, audit)

    def restore(self, name: str) -> Path | None:
        """Bring a backup back as the active file; the current one is backed up first."""
        with self._audited("restore", name=name) as audit:
            path = self._find_backup(name)
            audit.files["restored"] = path
            audit.files["active"] = self.active
            settings = self.validate(path)
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rb") as handle:
                content = handle.read()
            return self._replace_active(content, settings, audit)

    def _replace_active(self, content: bytes, settings: Settings, audit: _Audit) -> Path | None:
        backup = self._backup_active() if self.active.is_file() else None
        if backup:
            audit.files["backup"] = backup
        mode = PRIVATE_MODE if _is_production(settings) else SHARED_MODE
        try:
            atomic_write(self.active, content, mode)
        except BaseException:
            if backup:
                backup.unlink(missing_ok=True)
            raise
        return backup

    def _find_backup(self, name: str) -> Path:
        candidate = Path(name)
        if candidate.is_file():
            return candidate
        if candidate.name != name or name in (".", ".."):
            raise ConfigError([Problem("restore", "", f"no backup file at {name}", show_value=False)])
        for path in (self.backups_dir / name, self.backups_dir / f"{name}.gz"):
            if path.is_file():
                return path
        known = ", ".join(b.name for b in self.backups()[-5:]) or "none"
        raise ConfigError(
            [
                Problem(
                    "restore",
                    "",
                    f"no backup named {name} in {self.backups_dir} (latest: {known})",
                    show_value=False,
                )
            ]
        )

    def prune(self, settings: Settings) -> PruneResult:
        """Drop backups past storage.backup_retention_days (always keeping the newest one) and,
        with storage.enable_compression, gzip the rest once they are a day old."""
        now = self._clock()
        retention = timedelta(days=settings.storage.backup_retention_days)
        with self._audited("prune", retention_days=settings.storage.backup_retention_days):
            backups = self.backups()
            removed, compressed, kept = [], [], []
            for index, backup in enumerate(backups):
                newest = index == len(backups) - 1
                age = now - backup.taken_at
                if age > retention and not newest:
                    backup.path.unlink()
                    removed.append(backup.path)
                    continue
                if (
                    settings.storage.enable_compression
                    and age > COMPRESS_AFTER
                    and backup.path.suffix == ".yaml"
                ):
                    compressed.append(self._compress(backup.path))
                    continue
                kept.append(backup.path)
            return PruneResult(removed, compressed, kept)

    @staticmethod
    def _compress(path: Path) -> Path:
        target = path.with_name(path.name + ".gz")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
        with (
            path.open("rb") as source,
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb") as sink,
        ):
            shutil.copyfileobj(source, sink)
        path.unlink()
        return target
