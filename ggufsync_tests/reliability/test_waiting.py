"""A sync that finds the catalogue held by another live run waits asleep, says whom it waits for, and
stops cleanly on Ctrl-C or SIGTERM: its run failed, the other run's claim and the catalogue untouched."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import dagster as dg
import pytest

from ggufsync_assets.catalogue.lease import Holder
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_tests.pipeline.conftest import module_environment, start_simulator, user_environment

__all__ = ["module_environment"]  # a fixture the scenarios use

GGUFSYNC = Path(sys.executable).with_name("ggufsync")
WAITING = "waiting for the catalogue: it is held by run other-run"
PATIENCE = 120.0
LOOKS = 20
"""How many times the test looks at the waiting process's scheduler state."""


@dataclass
class Waited:
    returncode: int
    output: str
    states_while_waiting: list[str]
    lease_before: str
    lease_after: str
    catalogue: Path
    home: Path


def scheduler_state(pid: int) -> str:
    """R running or runnable, S asleep (see proc(5)); a process that spins is R whenever looked at."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def wait_for(output: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + PATIENCE
    while text not in output.read_text():
        assert process.poll() is None, output.read_text()[-3000:]
        assert time.monotonic() < deadline, f"never printed {text!r}:\n{output.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.fixture(scope="module", params=[signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def waited(
    request: pytest.FixtureRequest, module_environment: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Waited]:
    tmp_path = tmp_path_factory.mktemp("waiting")
    sim = start_simulator(10, 3)
    catalogue = tmp_path / "data" / "catalogue.duckdb"
    catalogue.parent.mkdir()
    store = CatalogueStore(catalogue)
    store.lease.path.write_text(json.dumps(asdict(Holder.for_run("other-run"))))  # this live process
    lease_before = store.lease.path.read_text()
    env = user_environment(tmp_path, sim.url, catalogue, GGUFSYNC_LOG_LEVEL="INFO")
    output = tmp_path / "output.txt"
    try:
        with output.open("w") as sink:
            process = subprocess.Popen(
                [str(GGUFSYNC), "sync", "--mode", "full"],
                env=env,
                cwd=tmp_path,
                stdout=sink,
                stderr=sink,
                text=True,
            )
            try:
                wait_for(output, WAITING, process)
                states = []
                for _ in range(LOOKS):
                    states.append(scheduler_state(process.pid))
                    time.sleep(0.1)
                process.send_signal(request.param)
                returncode = process.wait(timeout=PATIENCE)
            finally:
                if process.poll() is None:
                    process.kill()
        yield Waited(
            returncode,
            output.read_text(),
            states,
            lease_before,
            store.lease.path.read_text(),
            catalogue,
            tmp_path / "dagster_home",
        )
    finally:
        sim.stop()


def test_a_waiting_sync_says_which_run_holds_the_catalogue(waited: Waited) -> None:
    assert WAITING in waited.output


def test_a_waiting_sync_sleeps_rather_than_spins(waited: Waited) -> None:
    asleep = waited.states_while_waiting.count("S")
    assert asleep > LOOKS // 2, waited.states_while_waiting


def test_an_interrupted_waiting_sync_exits_as_failed(waited: Waited) -> None:
    assert waited.returncode == 1
    assert "sync failed" in waited.output
    assert "interrupted while waiting for the catalogue" in waited.output


def test_an_interrupted_waiting_sync_is_not_retried(waited: Waited) -> None:
    assert waited.output.count(WAITING) == 1


def test_an_interrupted_waiting_sync_leaves_its_dagster_run_failed(waited: Waited) -> None:
    with dg.DagsterInstance.from_config(str(waited.home)) as instance:
        assert [run.status for run in instance.get_runs()] == [dg.DagsterRunStatus.FAILURE]


def test_an_interrupted_waiting_sync_touches_neither_the_claim_nor_the_catalogue(waited: Waited) -> None:
    assert waited.lease_after == waited.lease_before
    assert not waited.catalogue.exists()
