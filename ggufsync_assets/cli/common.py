"""Options and helpers shared by the CLI verbs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

EXIT_OK = 0
EXIT_USAGE = 2


class CliError(Exception):
    """A failure the user can fix; printed as one line, exit code 2."""


def parse_assignment(text: str) -> tuple[str, Any]:
    """`section.key=value` from `--set`; the value is read as YAML so numbers, booleans and lists work."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"value of {key} is not valid YAML: {exc}") from exc
    return key.strip(), value


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """The options every settings-reading verb takes: environment selection and flag overrides."""
    parser.add_argument("--env", help="environment whose file to load (development, staging, production)")
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        type=parse_assignment,
        default=[],
        help="override one setting, e.g. --set rate_limiting.max_concurrent_requests=10 (repeatable)",
    )


def add_catalogue_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalogue", type=Path, help="override storage.catalogue_path")


def setting_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The --set overrides, with --catalogue (where the verb has it) as storage.catalogue_path."""
    flags = dict(args.overrides)
    if getattr(args, "catalogue", None):
        flags["storage.catalogue_path"] = str(args.catalogue)
    return flags
