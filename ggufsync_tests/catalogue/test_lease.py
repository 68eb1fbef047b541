"""One run holds the catalogue at a time; a run that died holds nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from ggufsync_assets.catalogue.lease import CatalogueBusy, Holder, Lease, process_gone


@pytest.fixture
def lease(tmp_path: Path) -> Lease:
    return Lease(tmp_path / ".catalogue.lease")


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def held_by_dead_process(lease: Lease, run_id: str) -> None:
    holder = replace(Holder.for_run(run_id), pid=dead_pid())
    lease.path.write_text(json.dumps(holder.__dict__))


def test_a_second_run_is_refused_while_the_first_holds_the_catalogue(lease: Lease) -> None:
    lease.try_claim("run-1")
    with pytest.raises(CatalogueBusy, match="held by run run-1"):
        lease.try_claim("run-2")


def test_a_later_step_of_the_holding_run_claims_again(lease: Lease) -> None:
    assert lease.try_claim("run-1").first
    again = lease.try_claim("run-1")
    assert not again.first
    assert again.replaced is None


def test_the_lease_is_held_by_the_claiming_run_until_it_releases(lease: Lease) -> None:
    assert not lease.held_by("run-1")
    lease.try_claim("run-1")
    assert (lease.held_by("run-1"), lease.held_by("run-2")) == (True, False)
    lease.release("run-1")
    assert not lease.held_by("run-1")


def test_a_released_catalogue_can_be_claimed_by_the_next_run(lease: Lease) -> None:
    lease.try_claim("run-1")
    lease.release("run-1")
    assert lease.try_claim("run-2").first


def test_releasing_for_another_run_leaves_the_holder_in_place(lease: Lease) -> None:
    lease.try_claim("run-1")
    lease.release("run-2")
    holder = lease.holder()
    assert holder is not None
    assert holder.run_id == "run-1"


def test_a_holder_whose_process_died_is_replaced_and_named(lease: Lease) -> None:
    held_by_dead_process(lease, "run-dead")
    claim = lease.try_claim("run-2")
    assert claim.replaced is not None
    assert claim.replaced.run_id == "run-dead"


def test_a_holder_the_caller_knows_has_ended_is_replaced(lease: Lease) -> None:
    lease.try_claim("run-1")  # this very process: alive
    claim = lease.try_claim("run-2", is_dead=lambda holder: holder.run_id == "run-1")
    assert claim.replaced is not None


def test_a_torn_lease_file_holds_nothing(lease: Lease) -> None:
    lease.path.write_text('{"run_id": "run-1", "pid"')
    assert lease.try_claim("run-2").replaced is None


def test_a_live_process_on_this_host_is_not_gone() -> None:
    assert not process_gone(Holder.for_run("run-1"))


def test_a_process_on_another_host_is_never_taken_for_gone() -> None:
    holder = replace(Holder.for_run("run-1"), pid=dead_pid(), host="elsewhere.invalid")
    assert not process_gone(holder)


def test_a_waiting_claim_names_the_holder_once_and_stops_when_told(lease: Lease) -> None:
    lease.try_claim("run-1")
    heard: list[str] = []
    stop = threading.Event()

    def waiting(holder: Holder) -> None:
        heard.append(holder.run_id)
        if len(heard) == 1:
            threading.Timer(0.3, stop.set).start()

    with pytest.raises(CatalogueBusy):
        lease.claim("run-2", waiting=waiting, stop=stop, poll_seconds=0.05)
    assert heard == ["run-1"]


def test_a_waiting_claim_goes_ahead_once_the_holder_lets_go(lease: Lease) -> None:
    lease.try_claim("run-1")
    threading.Timer(0.2, lease.release, args=["run-1"]).start()
    assert lease.claim("run-2", poll_seconds=0.05).holder.run_id == "run-2"


def _claimant_pid(queue: multiprocessing.Queue[int]) -> None:
    queue.put(Holder.for_run("run-1").pid)


def test_a_step_in_a_child_process_claims_for_the_run_process_that_outlives_it() -> None:
    context = multiprocessing.get_context("spawn")  # as Dagster's multiprocess executor starts steps
    queue: multiprocessing.Queue[int] = context.Queue()
    child = context.Process(target=_claimant_pid, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert queue.get(timeout=30) == os.getpid()
