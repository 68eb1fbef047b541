"""`ggufsync config ...`: the operator's verbs for the config folder."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from ggufsync_assets.alerts import Notifier
from ggufsync_assets.cli.common import EXIT_OK, EXIT_USAGE, CliError, add_settings_options
from ggufsync_assets.config_deploy.store import ConfigStore, PruneResult
from ggufsync_assets.hub.safety import file_hosts_warning
from ggufsync_assets.redaction import MASK, mask_value
from ggufsync_assets.settings import ConfigError, Environment, Problem, load_settings
from ggufsync_assets.settings.layers import config_dir, environment_file, flatten, selected_file
from ggufsync_assets.settings.model import key_paths

ENVIRONMENTS = [e.value for e in Environment]


def configure(config: argparse.ArgumentParser) -> None:
    config.add_argument(
        "--config-dir",
        type=Path,
        default=None,
        help="the config folder (default: $GGUFSYNC_CONFIG_DIR or ./config)",
    )
    verbs = config.add_subparsers(dest="verb", required=True, parser_class=type(config))

    validate = verbs.add_parser(
        "validate",
        help="check the configuration a sync would use: the file (syntax, keys, bounds, no secrets), "
        "then the file with the environment variables that override it",
        description="Checks each file on its own, then as a sync would load it: with the environment "
        "variables that override it (GGUFSYNC_<SECTION>__<KEY>, SYNC_MODE, MAX_CONCURRENCY, LOG_LEVEL, "
        "HF_ENDPOINT). Without FILE or --all, it checks the file a sync would read: "
        "sync-config-<env>.yaml when SYNC_ENVIRONMENT names an environment, else sync-config.yaml. "
        "A FILE, and each file of --all, is checked under the environment it declares: the same "
        "variables apply to every file, except SYNC_ENVIRONMENT, which only chooses a file.",
    )
    validate.add_argument(
        "file",
        nargs="?",
        help="a config file (default: the one a sync would read, picked by SYNC_ENVIRONMENT)",
    )
    validate.add_argument(
        "--all",
        action="store_true",
        help="every sync-config*.yaml in the folder, each with the same environment variables applied "
        "(SYNC_ENVIRONMENT aside: it only chooses a file)",
    )
    validate.set_defaults(handler=_validate)

    show = verbs.add_parser("show", help="effective settings and where each value came from")
    add_settings_options(show)
    show.add_argument("--format", choices=["table", "json", "yaml"], default="table")
    show.set_defaults(handler=_show)

    compare = verbs.add_parser("compare", help="differences between two files, key by key")
    compare.add_argument("left")
    compare.add_argument("right")
    compare.set_defaults(handler=_compare)

    create = verbs.add_parser("create", help="write config/sync-config-ENV.yaml with recommended values")
    create.add_argument("environment", choices=ENVIRONMENTS)
    create.add_argument("--force", action="store_true", help="overwrite an existing file")
    create.set_defaults(handler=_create)

    deploy = verbs.add_parser("deploy", help="validate, back up the active file, make ENV's file active")
    deploy.add_argument("environment", choices=ENVIRONMENTS)
    deploy.add_argument("--source", type=Path, help="deploy this file instead of sync-config-ENV.yaml")
    deploy.add_argument(
        "--force",
        action="store_true",
        help="allow a file whose environment: is not ENV (still validated)",
    )
    deploy.add_argument("--no-validate", action="store_true", help=argparse.SUPPRESS)
    deploy.set_defaults(handler=_deploy)

    backup = verbs.add_parser("backup", help="copy the active file to config/backups/")
    backup.set_defaults(handler=_backup)

    restore = verbs.add_parser("restore", help="validate a backup and make it active (backs up current)")
    restore.add_argument("name", help="backup file name, e.g. sync-config_backup_20260130_143022.yaml")
    restore.set_defaults(handler=_restore)

    listing = verbs.add_parser("list", help="environments, the active one, and backups")
    listing.set_defaults(handler=_list)

    prune = verbs.add_parser("prune", help="remove backups older than storage.backup_retention_days")
    add_settings_options(prune)
    prune.set_defaults(handler=_prune)


def _store(args: argparse.Namespace) -> ConfigStore:
    return ConfigStore(args.config_dir or config_dir())


def _validate(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.all and args.file:
        raise CliError("give a FILE or --all, not both")
    named = bool(args.all or args.file)
    if args.all:
        paths = store.config_files()
    elif args.file:
        paths = [store.resolve(args.file)]
    else:
        try:
            paths = [selected_file(directory=store.directory)]
        except ConfigError as exc:
            _audit_validation(store, [], "invalid")
            print("invalid  the configuration a sync would read")
            for problem in exc.problems:
                print(f"  {problem}")
            return EXIT_USAGE
    if not paths:
        raise CliError(f"no configuration files in {store.directory}")
    try:
        results = {path: _check(store, path, named=named) for path in paths}
    except Exception as exc:
        _audit_validation(store, paths, "error", error=str(exc))
        raise
    _audit_validation(store, paths, "invalid" if any(p for p, _ in results.values()) else "ok")
    for path, (problems, note) in results.items():
        if problems:
            print(f"invalid  {path}")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"ok       {path}  ({note})")
    for warning in store.exposure_warnings(paths):
        print(f"warning: {warning}")
    for path, (problems, _) in results.items():
        if problems:
            continue
        settings = store.validate(path)
        hosts = file_hosts_warning(settings)
        for said in [*([hosts] if hosts else []), *Notifier(settings).undeliverable()]:
            print(f"warning: {path}: {said}")
    return EXIT_USAGE if any(problems for problems, _ in results.values()) else EXIT_OK


def _check(store: ConfigStore, path: Path, *, named: bool) -> tuple[list[Problem], str]:
    """A file's problems, on its own and then with the environment's overrides (checked once the
    file is valid on its own), and what an ok line says about it.

    A `named` file (FILE or --all) is loaded under the environment it declares, so SYNC_ENVIRONMENT
    does not apply to it; otherwise the configuration is loaded exactly as `ggufsync sync` loads it.
    """
    try:
        alone = store.validate(path)
        if named:
            loaded = load_settings(config_file=path, env=alone.environment.value, directory=store.directory)
        else:
            loaded = load_settings(directory=store.directory)
    except ConfigError as exc:
        return exc.problems, ""
    note = f"environment: {loaded.settings.environment.value}"
    overrides = sorted(
        {origin.removeprefix("env ") for origin in loaded.origins.values() if origin.startswith("env ")}
    )
    if overrides:
        note += f"; environment overrides: {', '.join(overrides)}"
    return [], note


def _audit_validation(store: ConfigStore, paths: list[Path], outcome: str, error: str | None = None) -> None:
    store.audit_log.record(
        "validate",
        outcome=outcome,
        arguments={"files": [str(p) for p in paths]},
        files={f"file{index}": path for index, path in enumerate(paths)},
        error=error,
    )


def _display(path: str, value: Any, mask_all: bool) -> Any:
    if path == "huggingface_token":
        return None if value is None else MASK
    return mask_value(path, value) if mask_all else value


def _show(args: argparse.Namespace) -> int:
    store = _store(args)
    loaded = store.effective(args.env, dict(args.overrides))
    mask_all = loaded.settings.security.mask_sensitive_data
    values = flatten(loaded.settings.model_dump(mode="json"))
    rows = [(p, _display(p, values[p], mask_all), loaded.origin(p)) for p in key_paths()]
    # JSON has no comments: there the file is named on stderr, so that stdout parses as it is.
    print(
        f"# configuration file: {loaded.config_file}",
        file=sys.stderr if args.format == "json" else sys.stdout,
    )
    if args.format == "json":
        print(json.dumps({p: {"value": v, "source": s} for p, v, s in rows}, indent=2))
    elif args.format == "yaml":
        print(
            yaml.safe_dump({p: {"value": v, "source": s} for p, v, s in rows}, sort_keys=False),
            end="",
        )
    else:
        width = max(len(p) for p, _, _ in rows)
        value_width = max(len(json.dumps(v)) for _, v, _ in rows)
        for path, value, source in rows:
            print(f"{path:<{width}}  {json.dumps(value):<{value_width}}  {source}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    store = _store(args)
    left, right = store.resolve(args.left), store.resolve(args.right)
    differences = store.compare(left, right)
    if not differences:
        print(f"no differences: {left} and {right} give the same settings")
        return EXIT_OK
    print(f"{len(differences)} difference(s): {left} -> {right}")
    width = max(len(key) for key, _, _ in differences)
    for key, a, b in differences:
        print(f"  {key:<{width}}  {json.dumps(a)} -> {json.dumps(b)}")
    return EXIT_OK


def _create(args: argparse.Namespace) -> int:
    path = _store(args).create(Environment(args.environment), force=args.force)
    print(f"created {path}")
    return EXIT_OK


def _deploy(args: argparse.Namespace) -> int:
    if args.no_validate:
        raise CliError("validation cannot be skipped: deploy always validates (fix the file instead)")
    store = _store(args)
    env = Environment(args.environment)
    source = store.resolve(args.source) if args.source else environment_file(env, store.directory)
    backup = store.deploy(env, source=source, force=args.force)
    if backup:
        print(f"backed up previous configuration to {backup}")
    print(f"deployed {source} -> {store.active}")
    if backup:
        _apply_retention(store)
    _warn_if_overridden(store)
    return EXIT_OK


def _warn_if_overridden(store: ConfigStore) -> None:
    """SYNC_ENVIRONMENT picks a sync's file over the active one: say so where the active one is
    changed or shown, or the change would seem to take effect when it does not."""
    named = os.environ.get("SYNC_ENVIRONMENT")
    if not named:
        return
    try:
        read = selected_file(directory=store.directory)
    except ConfigError:
        print(
            f"warning: SYNC_ENVIRONMENT={named} names no environment: a sync refuses to start until it does"
        )
        return
    print(f"warning: SYNC_ENVIRONMENT={named} is set: a sync reads {read}, not {store.active}")


def _backup(args: argparse.Namespace) -> int:
    store = _store(args)
    print(f"backed up {store.active} to {store.backup()}")
    _apply_retention(store)
    return EXIT_OK


def _apply_retention(store: ConfigStore) -> None:
    """A command that writes a backup also prunes as `config prune` does, by the retention the
    configuration a sync reads sets: backups do not pile up where nobody runs prune."""
    try:
        settings = load_settings(directory=store.directory).settings
    except ConfigError:
        return  # the configuration does not load: `config validate` says why, nothing is pruned
    _print_pruned(store.prune(settings))


def _restore(args: argparse.Namespace) -> int:
    store = _store(args)
    backup = store.restore(args.name)
    if backup:
        print(f"backed up previous configuration to {backup}")
    print(f"restored {args.name} -> {store.active}")
    _warn_if_overridden(store)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    inventory = _store(args).inventory()
    print("environments:")
    for status in inventory.environments:
        state = "ok" if not status.problems else "INVALID" if status.path.exists() else "missing"
        print(f"  {status.path.stem.removeprefix('sync-config-'):<12} {state:<8} {status.path}")
    if inventory.active is None:
        print("active: none (deploy an environment with `ggufsync config deploy ENV`)")
    else:
        same = f", same as {inventory.active_matches.name}" if inventory.active_matches else ""
        env = inventory.active.environment or "INVALID"
        print(f"active: {inventory.active.path} (environment: {env}{same})")
        _warn_if_overridden(_store(args))
    print(f"backups ({len(inventory.backups)}):")
    for backup in inventory.backups:
        size = backup.path.stat().st_size
        print(f"  {backup.name}  {backup.taken_at:%Y-%m-%d %H:%M:%S} UTC  {size} bytes")
    return EXIT_OK


def _print_pruned(result: PruneResult) -> None:
    for path in result.removed:
        print(f"removed    {path}")
    for path in result.compressed:
        print(f"compressed {path}")


def _prune(args: argparse.Namespace) -> int:
    store = _store(args)
    settings = load_settings(env=args.env, flags=dict(args.overrides), directory=store.directory).settings
    result = store.prune(settings)
    _print_pruned(result)
    print(
        f"{len(result.removed)} removed, {len(result.compressed)} compressed, {len(result.kept)} kept "
        f"(retention {settings.storage.backup_retention_days} days)"
    )
    return EXIT_OK
