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
CPU_WINDOW = 2.0


@dataclass
class Waited:
    returncode: int
    output: str
    cpu_seconds_while_waiting: float
    lease_before: str
    lease_after: str
    catalogue: Path
    home: Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


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
                before = cpu_seconds(process.pid)
                time.sleep(CPU_WINDOW)
                spent = cpu_seconds(process.pid) - before
                process.send_signal(request.param)
                returncode = process.wait(timeout=PATIENCE)
            finally:
                if process.poll() is None:
                    process.kill()
        yield Waited(
            returncode,
            output.read_text(),
            spent,
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
    assert waited.cpu_seconds_while_waiting < CPU_WINDOW / 4


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
