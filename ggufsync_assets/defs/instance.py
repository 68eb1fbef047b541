"""The Dagster instance ggufsync runs against: DAGSTER_HOME, or `.dagster_home/` in the project.

Its dagster.yaml is written when missing: the catalogue_writer pool (every pool limited to one
step at a time, so two runs never write the catalogue together) and ggufsync's loggers captured
in run logs. A persistent home is what makes the pool work across processes and what lets
`dagster dev` show the runs the CLI made.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

DEFAULT_HOME = ".dagster_home"
LOCK_FILE = ".ggufsync-instance.lock"
INSTANCE_YAML = """\
# ggufsync's Dagster instance; written by ggufsync when missing, yours to extend.
concurrency:
  pools:
    default_limit: 1  # catalogue_writer: one step writes the DuckDB catalogue at a time
    granularity: op
python_logs:
  managed_python_loggers:
    - ggufsync
telemetry:
  enabled: false
"""


@contextlib.contextmanager
def _exclusive(home: Path) -> Iterator[None]:
    """Held by one process at a time. Opening an instance creates (and version-stamps) its SQLite
    storages on first use; two syncs doing that at once on a new home leave it unopenable."""
    with open(home / LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def dagster_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_HOME).resolve()
    home.mkdir(parents=True, exist_ok=True)
    with _exclusive(home):
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text(INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def instance() -> dg.DagsterInstance:
    home = dagster_home()
    with _exclusive(home):
        return dg.DagsterInstance.get()
