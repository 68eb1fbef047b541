"""The Dagster instance a test's syncs run on: ggufsync's own, in a temporary home.

Dagster's ephemeral instance writes a range's per-partition events one at a time and plans every
partition separately: an 80-repo sync takes about 20 s there, four times what it takes on the instance
`ggufsync sync` opens (its batching event log, defs/event_log.py). Tests run on what users run.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from ggufsync_assets.defs.instance import write_instance_config


@contextlib.contextmanager
def sync_instance() -> Iterator[dg.DagsterInstance]:
    """A new instance configured as ggufsync configures DAGSTER_HOME; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="dagster-home-") as folder:
        write_instance_config(Path(folder))
        with dg.DagsterInstance.from_config(folder) as instance:
            yield instance
