"""Entry point of the `ggufsync` console script.

Only the command being run is imported (Dagster, DuckDB and Polars take seconds to load), so
`ggufsync --help` and light commands start at once.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from ggufsync_assets.cli.common import EXIT_OK, EXIT_USAGE, CliError

COMMANDS: dict[str, tuple[str, str]] = {
    "config": ("config_cmd", "validate, compare and deploy configuration files"),
    "sync": ("sync_cmd", "sync the catalogue with the Hub (runs the Dagster assets)"),
    "query": ("query_cmd", "run read-only SQL on the catalogue"),
    "catalogue": ("catalogue_cmd", "back up, list, restore and prune backups of the published catalogue"),
    "demo": ("demo_cmd", "offline demo: simulated Hub -> full sync -> catalogue"),
    "hub": ("hub_cmd", "the local Hugging Face Hub simulator"),
}
"""Command -> (module in ggufsync_assets.cli, one-line help)."""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; this only keeps its message to one clear line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Every command is listed; only the one `argv` names gets its options (and its imports)."""
    parser = _Parser(prog="ggufsync", description="Keep a DuckDB catalogue of the Hub's GGUF repos.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    for name, (module, summary) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        if name == chosen:
            importlib.import_module(f"ggufsync_assets.cli.{module}").configure(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    try:
        return int(args.handler(args))
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        from ggufsync_assets.settings import ConfigError  # noqa: PLC0415 - loaded already if raised

        if not isinstance(exc, ConfigError):
            raise
        print("configuration error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE


def console() -> NoReturn:
    """The `ggufsync` console script. Its loaded modules (Dagster's: over a million objects) live until
    exit; frozen, the interpreter's last collection skips them, which otherwise takes most of a second."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console()
