"""`ggufsync catalogue backup | list | restore NAME | prune`: backups of the published catalogue."""

from __future__ import annotations

import argparse

from ggufsync_assets.catalogue.backups import Backup, BackupError, CatalogueBackups
from ggufsync_assets.cli.common import (
    EXIT_OK,
    CliError,
    add_catalogue_option,
    add_settings_options,
    setting_flags,
)
from ggufsync_assets.settings import Settings, load_settings


def configure(catalogue: argparse.ArgumentParser) -> None:
    verbs = catalogue.add_subparsers(dest="verb", required=True, parser_class=type(catalogue))
    backup = verbs.add_parser(
        "backup",
        help="copy the published catalogue to backups/ beside it (verified, mode 0600, "
        "gzipped with storage.enable_compression)",
    )
    backup.set_defaults(handler=_backup)
    listing = verbs.add_parser("list", help="the catalogue's backups, newest first")
    listing.set_defaults(handler=_list)
    restore = verbs.add_parser(
        "restore",
        help="verify a backup, back up the current catalogue, then make the backup the published one",
    )
    restore.add_argument("name", help="a backup's name as `ggufsync catalogue list` shows it")
    restore.set_defaults(handler=_restore)
    prune = verbs.add_parser(
        "prune", help="remove backups older than storage.backup_retention_days (the newest is always kept)"
    )
    prune.set_defaults(handler=_prune)
    for verb in (backup, listing, restore, prune):
        add_catalogue_option(verb)
        add_settings_options(verb)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(env=args.env, flags=setting_flags(args)).settings


def _counts(backup: Backup) -> str:
    models, files = backup.count("models"), backup.count("model_files")
    if models is None or files is None:
        return "unreadable" if backup.manifest else "no manifest"
    return f"{models:,} models, {files:,} files"


def _backup(args: argparse.Namespace) -> int:
    backups = CatalogueBackups.from_settings(_settings(args))
    try:
        taken = backups.take(reason="ggufsync catalogue backup")
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(
        f"backed up {backups.published} to {taken.path} ({taken.path.stat().st_size:,} bytes; {_counts(taken)})"
    )
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    backups = CatalogueBackups.from_settings(_settings(args))
    found = backups.backups()
    print(f"backups of {backups.published} in {backups.folder} ({len(found)}):")
    if not found:
        print("  none yet: `ggufsync catalogue backup` takes one")
    width = max((len(b.name) for b in found), default=0)
    for backup in found:
        size = backup.path.stat().st_size
        print(
            f"  {backup.name:<{width}}  {backup.taken_at:%Y-%m-%d %H:%M:%S} UTC  {size:>15,} bytes  {_counts(backup)}"
        )
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    backups = CatalogueBackups.from_settings(_settings(args))
    try:
        restored = backups.restore(args.name)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    if restored.previous is not None:
        print(f"backed up the catalogue it replaces to {restored.previous.path}")
    print(
        f"restored {restored.backup.name} -> {backups.published} ({_counts(restored.backup)}); "
        "the next sync carries on from it"
    )
    return EXIT_OK


def _prune(args: argparse.Namespace) -> int:
    settings = _settings(args)
    backups = CatalogueBackups.from_settings(settings)
    removed = backups.prune(settings.storage.backup_retention_days)
    for backup in removed:
        print(f"removed {backup.path} (taken {backup.taken_at:%Y-%m-%d %H:%M:%S} UTC)")
    print(
        f"{len(removed)} removed, {len(backups.backups())} kept "
        f"(retention {settings.storage.backup_retention_days} days; the newest is always kept)"
    )
    return EXIT_OK
