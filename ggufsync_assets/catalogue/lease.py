"""Which sync run holds the catalogue: one run at a time, from its first write to its publish.

A run is the unit of isolation: steps of two runs must never interleave on the working file,
or one run's check would score the other's half-written rows and one run's publish would ship
them. The holder is written to a small JSON file beside the catalogue; a short `flock` makes
claiming it atomic across processes. A holder that died (its process is gone, or the caller
knows its run has ended) holds nothing: the next claim replaces it and says whom it replaced.
Readers never take the lease; they open the published copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Holder:
    run_id: str
    pid: int
    host: str
    claimed_at: str

    @classmethod
    def for_run(cls, run_id: str) -> Holder:
        """This process's claim for `run_id`. A step that runs in a child of the run's process (a
        multiprocess executor) names the parent, which lives as long as the run."""
        parent = multiprocessing.parent_process()
        pid = parent.pid if parent is not None and parent.pid is not None else os.getpid()
        return cls(run_id, pid, socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {self.claimed_at})"


Waiting: TypeAlias = Callable[[Holder], None] | None
"""Told about each live holder a claim waits for."""


def process_gone(holder: Holder) -> bool:
    """The holder's process has exited; only knowable for a process on this host."""
    if holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(holder.pid)


def _is_zombie(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return False


@dataclass(frozen=True)
class Claim:
    holder: Holder
    first: bool
    """The run's first claim (not a later step of the same run)."""
    replaced: Holder | None = None
    """A dead run whose claim this one replaced."""


class CatalogueBusy(Exception):
    """Another live run holds the catalogue."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(f"the catalogue is held by {holder.describe()}")
        self.holder = holder


class Lease:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.guard = path.with_name(path.name + ".guard")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.guard, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def holder(self) -> Holder | None:
        try:
            data = json.loads(self.path.read_text())
            return Holder(**data)
        except (FileNotFoundError, ValueError, TypeError):
            return None  # no lease, or one torn by a crash mid-write: nobody holds it

    def held_by(self, run_id: str) -> bool:
        holder = self.holder()
        return holder is not None and holder.run_id == run_id

    def try_claim(self, run_id: str, *, is_dead: Callable[[Holder], bool] = process_gone) -> Claim:
        """Claim for `run_id` now, or raise CatalogueBusy naming the live holder."""
        with self._locked():
            current = self.holder()
            me = Holder.for_run(run_id)
            if current is not None and current.run_id != run_id and not is_dead(current):
                raise CatalogueBusy(current)
            self._write(me)
            first = current is None or current.run_id != run_id
            return Claim(me, first=first, replaced=current if first else None)

    def claim(
        self,
        run_id: str,
        *,
        is_dead: Callable[[Holder], bool] = process_gone,
        waiting: Waiting = None,
        stop: threading.Event | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> Claim:
        """Claim, waiting (asleep, polling) while a live run holds the catalogue; `waiting` hears
        about each new holder waited for. A set `stop` ends the wait with CatalogueBusy."""
        announced: str | None = None
        stop = stop or threading.Event()
        while True:
            try:
                return self.try_claim(run_id, is_dead=is_dead)
            except CatalogueBusy as busy:
                if busy.holder.run_id != announced and waiting is not None:
                    waiting(busy.holder)
                    announced = busy.holder.run_id
                if stop.wait(poll_seconds):
                    raise

    def release(self, run_id: str) -> None:
        """Give the catalogue up, if `run_id` holds it."""
        with self._locked():
            current = self.holder()
            if current is not None and current.run_id == run_id:
                self.path.unlink(missing_ok=True)

    def _write(self, holder: Holder) -> None:
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps(asdict(holder)))
        os.replace(partial, self.path)
