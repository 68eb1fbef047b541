"""The Dagster instance ggufsync runs against: DAGSTER_HOME, or `.dagster_home/` in the project.

Its dagster.yaml is written when missing: ggufsync's loggers captured in run logs, telemetry off,
and the SQLite event log that writes a run's per-partition materializations in one batch.
A persistent home is what lets `dagster dev` show the runs the CLI made, and what lets a sync
tell a run that ended from one still running (see defs/steps.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

DEFAULT_HOME = ".dagster_home"
LOCK_FILE = ".ggufsync-instance.lock"
INSTANCE_YAML = """\
# ggufsync's Dagster instance; written by ggufsync when missing, yours to extend.
python_logs:
  managed_python_loggers:
    - ggufsync
telemetry:
  enabled: false
# SQLite storage as Dagster's default, writing a range's per-partition events in one transaction.
event_log_storage:
  module: ggufsync_assets.defs.event_log
  class: BatchingSqliteEventLogStorage
  config:
    base_dir: {event_logs}
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
        write_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def write_instance_config(home: Path) -> None:
    """ggufsync's dagster.yaml in `home`, unless it has one already (then it is the user's)."""
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML.format(event_logs=json.dumps(str(home / "history" / "runs"))))


def instance() -> dg.DagsterInstance:
    """The instance the CLI's syncs run on."""
    home = dagster_home()
    with _exclusive(home):
        return dg.DagsterInstance.get()
