"""A sync killed with SIGKILL loses nothing: the published catalogue stays exactly the last successful
sync's, no repo anywhere has half its files, and the next sync resumes where the killed ones stopped.

Each scenario: a successful full sync (the baseline); then the Hub changes; then one full sync per
kill point in KILL_POINTS, each killed there (`killed_sync.py`), each carrying on from what the last
one left in the working file; then a plain full sync. All of them are `ggufsync sync` as a user
runs it, on one persistent Dagster home. `make soak` runs more seeds (SOAK_SEEDS=1,2,3,...).
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ggufsync_assets.catalogue.contract import TABLES
from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings import load_settings
from ggufsync_tests.pipeline.conftest import (
    gguf_repos,
    module_environment,
    start_simulator,
    user_environment,
)
from ggufsync_tests.reliability.killed_sync import KILL_POINTS

__all__ = ["module_environment"]  # a fixture the scenarios use

REPOS = 24
SEEDS = [int(seed) for seed in os.environ.get("SOAK_SEEDS", "71").split(",")]
GGUFSYNC = Path(sys.executable).with_name("ggufsync")
PROCESS_TIMEOUT = 300
Rows = dict[str, list[tuple[object, ...]]]


@dataclass
class Scenario:
    seed: int
    baseline: Rows
    after_kill: dict[str, Rows] = field(default_factory=dict)
    returncodes: dict[str, int] = field(default_factory=dict)
    half_files: dict[str, list[str]] = field(default_factory=dict)
    fetched_before_final: set[str] = field(default_factory=set)
    final_trees: set[str] = field(default_factory=set)
    final_returncode: int | None = None
    final_output: str = ""
    truth: dict[str, str] = field(default_factory=dict)
    catalogue: Path = Path()
    home: Path = Path()


def contents(path: Path) -> Rows:
    """Every table of a catalogue file, rows sorted: what "equal" means for two catalogues."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t.name: sorted(con.sql(f"SELECT * FROM {t.name}").fetchall(), key=repr) for t in TABLES}
    finally:
        con.close()


def half_filed(path: Path) -> list[str]:
    """Repos whose file rows do not add up to the file count their summary says they have."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [
            repo_id
            for (repo_id,) in con.sql(
                "SELECT m.repo_id FROM models m LEFT JOIN model_files f USING (repo_id) "
                "WHERE m.files_sha IS NOT NULL GROUP BY m.repo_id, m.gguf_file_count "
                "HAVING count(f.path) != m.gguf_file_count"
            ).fetchall()
        ]
    finally:
        con.close()


def readable_copy(path: Path, folder: Path, name: str) -> Path:
    """A copy to read: opening the working file itself would replay its log into it."""
    copy = folder / f"{name}.duckdb"
    copy.write_bytes(path.read_bytes())
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        copy.with_name(copy.name + ".wal").write_bytes(wal.read_bytes())
    return copy


def change_the_hub(sim: HubSimulator) -> None:
    repos = sim.state.repos()
    for repo in repos[::2]:
        sim.edit(repo.id)
    for _ in range(5):
        sim.add()


def tree_requests(sim: HubSimulator) -> set[str]:
    return {
        r.path.split("/api/models/", 1)[1].rsplit("/tree/", 1)[0]
        for r in sim.requests
        if "/tree/" in r.path and r.status is not None
    }


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=PROCESS_TIMEOUT, check=False
    )


@pytest.fixture(scope="module", params=SEEDS, ids=lambda seed: f"seed-{seed}")
def scenario(
    request: pytest.FixtureRequest, module_environment: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    seed: int = request.param
    folder = tmp_path_factory.mktemp(f"kills-{seed}")
    sim = start_simulator(REPOS, seed)
    catalogue = folder / "data" / "catalogue.duckdb"
    env = user_environment(
        folder,
        sim.url,
        catalogue,
        GGUFSYNC_RATE_LIMITING__REQUESTS_PER_SECOND="500",
        GGUFSYNC_RATE_LIMITING__REQUESTS_PER_HOUR="10000000",
        GGUFSYNC_PERFORMANCE__CHUNK_SIZE="3",
        GGUFSYNC_GGUF_HEADERS__READ="false",  # header rows are written with their trees, in the same transaction
        GGUFSYNC_LOG_LEVEL="WARNING",
    )
    store = CatalogueStore(catalogue)
    copies = folder / "copies"
    copies.mkdir()
    try:
        first = run([str(GGUFSYNC), "sync", "--mode", "full"], env, folder)
        assert first.returncode == 0, first.stderr[-3000:]
        found = Scenario(seed, contents(catalogue), catalogue=catalogue, home=folder / "dagster_home")
        change_the_hub(sim)
        for point in KILL_POINTS:
            killed = run([sys.executable, "-m", "ggufsync_tests.reliability.killed_sync", point], env, folder)
            found.returncodes[point] = killed.returncode
            found.after_kill[point] = contents(catalogue)
            working = readable_copy(store.working, copies, point)
            found.half_files[point] = half_filed(catalogue) + half_filed(working)
        for repo in sim.state.repos()[1:6:2]:
            sim.edit(repo.id)  # work the killed runs cannot have done
        settings = load_settings(directory=folder / "config", use_environment=False).settings
        found.truth = {r.id: r.sha for r in gguf_repos(sim, settings.discovery.authors).values()}
        before = readable_copy(store.working, copies, "before-final")
        with duckdb.connect(str(before), read_only=True) as con:
            found.fetched_before_final = {
                repo_id
                for repo_id, files_sha in con.sql("SELECT repo_id, files_sha FROM models").fetchall()
                if files_sha is not None and found.truth.get(repo_id) == files_sha
            }
        sim.clear_requests()
        final = run([str(GGUFSYNC), "sync", "--mode", "full"], env, folder)
        found.final_returncode, found.final_output = final.returncode, final.stdout + final.stderr
        found.final_trees = tree_requests(sim)
        yield found
    finally:
        sim.stop()


@pytest.mark.parametrize("point", KILL_POINTS)
def test_the_sync_was_killed_at_the_point(scenario: Scenario, point: str) -> None:
    assert scenario.returncodes[point] == -signal.SIGKILL


@pytest.mark.parametrize("point", KILL_POINTS)
def test_after_a_kill_the_published_catalogue_is_exactly_the_last_successful_sync(
    scenario: Scenario, point: str
) -> None:
    assert scenario.after_kill[point] == scenario.baseline


@pytest.mark.parametrize("point", KILL_POINTS)
def test_after_a_kill_no_repo_anywhere_has_half_its_files(scenario: Scenario, point: str) -> None:
    assert scenario.half_files[point] == []


def test_the_killed_runs_had_fetched_trees_the_next_sync_can_keep(scenario: Scenario) -> None:
    assert scenario.fetched_before_final


def test_the_next_sync_fetches_only_the_trees_no_killed_run_fetched(scenario: Scenario) -> None:
    assert scenario.final_returncode == 0, scenario.final_output[-3000:]
    assert scenario.final_trees
    assert scenario.final_trees == set(scenario.truth) - scenario.fetched_before_final


def test_the_next_sync_reaches_the_hubs_ground_truth(scenario: Scenario) -> None:
    con = duckdb.connect(str(scenario.catalogue), read_only=True)
    try:
        rows = con.sql("SELECT repo_id, sha, files_sha FROM current_models").fetchall()
    finally:
        con.close()
    assert {repo_id: sha for repo_id, sha, _ in rows} == scenario.truth
    assert all(files_sha == sha for _, sha, files_sha in rows)
    assert half_filed(scenario.catalogue) == []


def test_every_killed_run_shows_as_abandoned_in_sync_runs(scenario: Scenario) -> None:
    con = duckdb.connect(str(scenario.catalogue), read_only=True)
    try:
        statuses = [
            status for (status,) in con.sql("SELECT status FROM sync_runs ORDER BY started_at").fetchall()
        ]
    finally:
        con.close()
    assert statuses == ["succeeded", *["abandoned"] * len(KILL_POINTS), "succeeded"]


def test_no_killed_run_is_left_running_in_dagster(scenario: Scenario) -> None:
    with dg.DagsterInstance.from_config(str(scenario.home)) as instance:
        statuses = [run.status for run in instance.get_runs()]
    assert statuses.count(dg.DagsterRunStatus.SUCCESS) == 2
    assert statuses.count(dg.DagsterRunStatus.FAILURE) == len(KILL_POINTS)
