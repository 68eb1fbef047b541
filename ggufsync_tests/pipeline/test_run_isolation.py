"""A run is the unit of isolation: two full syncs and an incremental one started together, each in a
process of its own, while a reader polls the published catalogue throughout.

The runs take the catalogue one after another (their sync_runs spans never overlap), the reader
never waits and never sees half a sync, and the catalogue ends equal to the Hub's ground truth.
A run that died while holding the catalogue holds nothing: the next run takes over and says so.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ggufsync_assets.catalogue.lease import Holder
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.settings import SyncMode, load_settings
from ggufsync_tests.catalogue.test_lease import dead_pid
from ggufsync_tests.pipeline.conftest import (
    CDN_HOST,
    NO_HEADER_READS,
    REPO_ROOT,
    SyncRun,
    clean_environment,
    copy_config,
    gguf_repos,
    rows_of,
    running_pipeline,
    start_simulator,
)

REPOS = 30
SEED = 61
MODES = ("full", "full", "incremental")
PROCESS_TIMEOUT = 300


@dataclass
class Reads:
    """What the polling reader saw."""

    snapshots: int = 0
    missing: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Contest:
    returncodes: list[int]
    outputs: list[str]
    reads: Reads
    catalogue: Path
    truth: dict[str, str]
    """repo_id -> sha of the GGUF repos on the Hub."""


def poll(store: CatalogueStore, stop: threading.Event, reads: Reads) -> None:
    """Read the published catalogue as an analyst would, over and over, until told to stop."""
    while not stop.wait(0.05):
        try:
            with store.reader() as con:
                [(files, counted, running)] = con.sql(
                    "SELECT (SELECT count(*) FROM model_files f JOIN current_models m USING (repo_id)), "
                    "(SELECT coalesce(sum(gguf_file_count), 0) FROM current_models WHERE files_sha = sha), "
                    "(SELECT count(*) FROM sync_runs WHERE status = 'running')"
                ).fetchall()
        except FileNotFoundError:
            reads.missing += 1
            continue
        except duckdb.Error as exc:
            reads.problems.append(f"read failed: {exc}")
            continue
        reads.snapshots += 1
        if files != counted:
            reads.problems.append(f"{files} file rows for {counted} catalogued files")
        if running:
            reads.problems.append(f"{running} runs still running in a published catalogue")


@pytest.fixture(scope="module")
def contest(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contest]:
    folder = tmp_path_factory.mktemp("contest")
    sim = start_simulator(REPOS, SEED)
    catalogue = folder / "data" / "catalogue.duckdb"
    variables = {
        "GGUFSYNC_CONFIG_DIR": str(copy_config(folder / "config")),
        "HF_ENDPOINT": sim.url,
        "HF_HOME": str(folder / "hf_home"),
        "GGUFSYNC_SECURITY__ALLOWED_DOMAINS": json.dumps([CDN_HOST]),
        "GGUFSYNC_RATE_LIMITING__REQUESTS_PER_SECOND": "500",
        "GGUFSYNC_RATE_LIMITING__REQUESTS_PER_HOUR": "10000000",
        "GGUFSYNC_STORAGE__CATALOGUE_PATH": str(catalogue),
        "GGUFSYNC_LOG_LEVEL": "INFO",
        "GGUFSYNC_GGUF_HEADERS__READ": "false",  # runs' isolation, not header reads, is under test
    }
    reads, stop = Reads(), threading.Event()
    reader = threading.Thread(target=poll, args=(CatalogueStore(catalogue), stop, reads))
    reader.start()
    try:
        processes = []
        for mode in MODES:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ggufsync_tests.pipeline.sync_process", mode],
                    cwd=REPO_ROOT,
                    env=clean_environment(**variables),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
            time.sleep(0.5)  # the second full sync starts while the first is under way
        outputs = [p.communicate(timeout=PROCESS_TIMEOUT)[0] for p in processes]
        settings = load_settings(directory=folder / "config", use_environment=False).settings
        truth = {r.id: r.sha for r in gguf_repos(sim, settings.discovery.authors).values()}
        yield Contest([p.returncode for p in processes], outputs, reads, catalogue, truth)
    finally:
        stop.set()
        reader.join()
        sim.stop()


def test_every_run_of_the_contest_succeeds(contest: Contest) -> None:
    assert contest.returncodes == [0, 0, 0], "\n".join(o[-2000:] for o in contest.outputs)


def test_the_runs_hold_the_catalogue_one_after_another(contest: Contest) -> None:
    spans = rows_of(
        contest.catalogue, "SELECT started_at, finished_at, status FROM sync_runs ORDER BY started_at"
    )
    assert [status for _, _, status in spans] == ["succeeded"] * len(MODES)
    for (_, finished, _), (started, _, _) in itertools.pairwise(spans):
        assert finished <= started


def test_a_run_that_waited_said_whom_it_waited_for(contest: Contest) -> None:
    assert any("waiting for the catalogue: it is held by run" in output for output in contest.outputs)


def test_the_reader_never_waited_and_never_saw_half_a_sync(contest: Contest) -> None:
    assert contest.reads.problems == []
    assert contest.reads.snapshots > 0


def test_the_contest_ends_with_the_hubs_ground_truth(contest: Contest) -> None:
    present = dict(rows_of(contest.catalogue, "SELECT repo_id, sha FROM current_models"))
    assert present == contest.truth
    fetched = dict(rows_of(contest.catalogue, "SELECT repo_id, files_sha FROM current_models"))
    assert fetched == contest.truth


# ----- a run that died --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def after_a_dead_run(
    module_environment: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SyncRun, list[str]]]:
    """A first sync, then a run that 'died' mid-sync (its sync_runs row still running, its claim on
    the catalogue naming a process that is gone), then the next sync."""
    with running_pipeline(tmp_path_factory, "dead-run", repos=12, seed=5, **NO_HEADER_READS) as pipeline:
        assert pipeline.sync(SyncMode.FULL).success
        store = CatalogueStore(pipeline.catalogue)
        with store.writer() as writer:
            writer.ensure_run("dead-run", mode="full", started_at=datetime.now(UTC))
        holder = replace(Holder.for_run("dead-run"), pid=dead_pid())
        store.lease.path.write_text(json.dumps(holder.__dict__))
        run = pipeline.sync(SyncMode.INCREMENTAL)
        yield run, [entry.user_message for entry in pipeline.instance.all_logs(run.run_id)]


def test_a_run_that_died_does_not_block_the_next(after_a_dead_run: tuple[SyncRun, list[str]]) -> None:
    run, _ = after_a_dead_run
    assert run.success


def test_the_dead_run_is_marked_abandoned_in_sync_runs(after_a_dead_run: tuple[SyncRun, list[str]]) -> None:
    run, _ = after_a_dead_run
    [(status, error)] = run.rows("SELECT status, error FROM sync_runs WHERE run_id = 'dead-run'")
    assert status == "abandoned"
    assert run.run_id in error


def test_the_next_run_says_it_took_over_from_the_dead_one(
    after_a_dead_run: tuple[SyncRun, list[str]],
) -> None:
    _, messages = after_a_dead_run
    assert sum("took the catalogue over from run dead-run" in m for m in messages) == 1
