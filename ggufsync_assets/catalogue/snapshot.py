"""Opening the published catalogue for reading: DuckDB alone, so a query starts fast."""

from __future__ import annotations

from pathlib import Path

import duckdb


def open_snapshot(published: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the catalogue as last published, a snapshot of its own.

    duckdb.connect() gives every connection to one path in a process the same database
    instance, so a reader opened after a publish would share the old file with a reader still
    open from before it; attaching to a fresh in-memory database opens the file as it is now.
    """
    if not published.exists():
        raise FileNotFoundError(f"no catalogue at {published}: run `ggufsync sync` first")
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET enable_progress_bar = false")
        location = str(published).replace("'", "''")
        con.execute(f"ATTACH '{location}' AS catalogue (READ_ONLY)")
        con.execute("USE catalogue")
    except BaseException:
        con.close()
        raise
    return con
