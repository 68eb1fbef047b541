"""`ggufsync sync --mode full` that SIGKILLs itself at a chosen point, as an OOM kill or a power cut
would stop it: no exception, no cleanup, no flush.

    python -m ggufsync_tests.reliability.killed_sync POINT

POINT is one of KILL_POINTS. Settings come from the environment (GGUFSYNC_* variables) and the
Dagster instance from DAGSTER_HOME, as for a user's `ggufsync sync`.
"""

import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter
from ggufsync_assets.cli.main import main
from ggufsync_assets.settings import load_settings

KILL_POINTS = ("listing", "trees", "chunk", "completeness", "publish")
"""listing: after the listing wrote its first page. trees: after the second chunk of file trees was
written. chunk: inside the second file-tree chunk's transaction, its rows written, not committed.
completeness: inside the first transaction of completeness scores. publish: half-way through
copying the working file to the published one."""


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def after_calls(name: str, calls: int) -> None:
    """Die once CatalogueWriter.<name> has returned `calls` times."""
    real = getattr(CatalogueWriter, name)
    done = 0

    def counted(self: CatalogueWriter, *args: Any, **kwargs: Any) -> Any:
        nonlocal done
        result = real(self, *args, **kwargs)
        done += 1
        if done >= calls:
            die()
        return result

    setattr(CatalogueWriter, name, counted)


def inside_transaction(name: str, calls: int) -> None:
    """Die inside the transaction of the `calls`-th chunk CatalogueWriter.<name> writes, after its
    statements ran and before its commit."""
    real_method, real_transaction = getattr(CatalogueWriter, name), CatalogueWriter.transaction
    state = {"inside": False, "chunks": 0}

    def flagged(self: CatalogueWriter, *args: Any, **kwargs: Any) -> Any:
        state["inside"] = True
        try:
            return real_method(self, *args, **kwargs)
        finally:
            state["inside"] = False

    @contextlib.contextmanager
    def transaction(self: CatalogueWriter) -> Iterator[duckdb.DuckDBPyConnection]:
        with real_transaction(self) as con:
            yield con
            if state["inside"]:
                state["chunks"] += 1
                if state["chunks"] >= calls:
                    die()

    setattr(CatalogueWriter, name, flagged)
    CatalogueWriter.transaction = transaction  # type: ignore[method-assign]


def during_publish() -> None:
    """Die half-way through writing the published file's temporary copy: the one copy made of the
    working file (other copies, of a Dagster run's empty event log say, go through untouched)."""
    real_copy: Callable[..., Any] = shutil.copyfile
    working = CatalogueStore.from_settings(load_settings().settings).working

    def copy(src: Any, dst: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(src) != working:
            return real_copy(src, dst, *args, **kwargs)
        with open(src, "rb") as source, open(dst, "wb") as target:
            data = source.read()
            target.write(data[: len(data) // 2])
            target.flush()
            os.fsync(target.fileno())
        die()
        return dst

    shutil.copyfile = copy


def arm(point: str) -> None:
    arming: dict[str, Callable[[], None]] = {
        "listing": lambda: after_calls("upsert_models", 1),
        "trees": lambda: after_calls("replace_files", 2),
        "chunk": lambda: inside_transaction("replace_files", 2),
        "completeness": lambda: inside_transaction("set_completeness", 1),
        "publish": during_publish,
    }
    arming[point]()


if __name__ == "__main__":
    arm(sys.argv[1])
    sys.exit(main(["sync", "--mode", "full"]))
