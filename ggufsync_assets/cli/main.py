"""Entry point of the `ggufsync` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from ggufsync_assets.cli import config_cmd, demo_cmd, hub_cmd, query_cmd, sync_cmd
from ggufsync_assets.cli.common import EXIT_OK, EXIT_USAGE, CliError
from ggufsync_assets.settings import ConfigError

COMMANDS = (config_cmd, sync_cmd, query_cmd, demo_cmd, hub_cmd)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; this only keeps its message to one clear line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ggufsync", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print("configuration error:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away; that is not an error of ours.
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
