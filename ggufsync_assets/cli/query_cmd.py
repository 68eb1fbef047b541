"""`ggufsync query "SQL"`: read-only SQL on the published catalogue, as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

import duckdb

from ggufsync_assets.catalogue.snapshot import open_snapshot
from ggufsync_assets.cli.common import EXIT_OK, CliError, add_settings_options
from ggufsync_assets.settings import load_settings

MAX_CELL = 60
READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT})


def configure(query: argparse.ArgumentParser) -> None:
    query.add_argument("sql", help='e.g. "SELECT * FROM quantization_summary"')
    query.add_argument("--format", choices=["table", "csv", "json"], default="table")
    query.add_argument("--catalogue", type=Path, help="the catalogue file (default storage.catalogue_path)")
    add_settings_options(query)
    query.set_defaults(handler=_query)


def _query(args: argparse.Namespace) -> int:
    path = args.catalogue or Path(
        load_settings(env=args.env, flags=dict(args.overrides)).settings.storage.catalogue_path
    )
    try:
        with open_snapshot(path) as con:
            _refuse_writes(con, args.sql)
            relation = con.sql(args.sql)
            if relation is None:
                raise CliError("the statement returned no rows to show (the catalogue is read-only here)")
            columns, rows = relation.columns, relation.fetchall()
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    except duckdb.Error as exc:
        raise CliError(f"query failed: {exc}") from None
    {"table": _table, "csv": _csv, "json": _json}[args.format](columns, rows)
    return EXIT_OK


FIRST_WORD = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*([A-Za-z]+)", re.DOTALL)
"""A statement's first keyword, after whitespace and comments."""


def _refuse_writes(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Only queries run here. The catalogue is attached read-only, but a statement could still write
    elsewhere: COPY ... TO a file, ATTACH a new database file and fill it, INSTALL an extension."""
    for statement in con.extract_statements(sql):
        if statement.type not in READ_ONLY_STATEMENTS:
            # Named by its own first word: DuckDB files INSTALL under LOAD, for one.
            first = FIRST_WORD.match(statement.query)
            kind = first.group(1).upper() if first else statement.type.name.replace("_", " ")
            raise CliError(
                f"{kind} statements are refused: `ggufsync query` only reads the catalogue "
                "(SELECT, FROM, WITH, DESCRIBE, SHOW, SUMMARIZE)"
            )


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _csv(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows(rows)


def _json(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str, indent=2))
