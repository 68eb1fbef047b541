"""`ggufsync sync` and `dagster definitions validate` as a user runs them, on a persistent Dagster
instance (DAGSTER_HOME in a temporary folder) with settings from the environment.

The simulator runs in the test process; `ggufsync` subprocesses reach it over loopback. Syncs here
are incremental: the simulator gets a few repos created a moment ago, inside the window.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG

from ggufsync_assets.cli.main import main
from ggufsync_assets.cli.sync_cmd import EXIT_SYNC_FAILED, LISTED_REPOS, LOG_FILE
from ggufsync_assets.defs.jobs import CODE_LOCATION, REPOSITORY, SYNC_JOB
from ggufsync_assets.defs.resources import LOGGER, REQUEST_LOG
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings import load_settings
from ggufsync_assets.sync.plan import RANGE_READS_PER_HEADER, requests_per_repo
from ggufsync_tests.pipeline.conftest import (
    CDN_HOST,
    LISTING_PATH,
    REPO_ROOT,
    Setup,
    clean_environment,
    copy_config,
    gguf_repos,
    rows_of,
    start_simulator,
)

REPOS = 40
SEED = 47
FRESH = tuple(f"fresh-publisher/Fresh-{letter}-GGUF" for letter in "ABC")
GGUFSYNC = Path(sys.executable).with_name("ggufsync")
RATE = 500
ENVIRONMENTS = ("development", "staging", "production")
SUBPROCESS_TIMEOUT = 240


def make_setup(sim: HubSimulator, folder: Path) -> Setup:
    catalogue = folder / "data" / "catalogue.duckdb"
    variables = {
        "DAGSTER_HOME": str(folder / "dagster_home"),
        "GGUFSYNC_CONFIG_DIR": str(copy_config(folder / "config")),
        "HF_ENDPOINT": sim.url,
        "HF_HOME": str(folder / "hf_home"),
        "GGUFSYNC_SECURITY__ALLOWED_DOMAINS": json.dumps([CDN_HOST]),
        "GGUFSYNC_RATE_LIMITING__REQUESTS_PER_SECOND": str(RATE),
        "GGUFSYNC_RATE_LIMITING__REQUESTS_PER_HOUR": "10000000",
        "GGUFSYNC_STORAGE__CATALOGUE_PATH": str(catalogue),
        "GGUFSYNC_LOG_LEVEL": "WARNING",
        "GGUFSYNC_DEBUG_MODE": "false",
    }
    return Setup(folder / "dagster_home", folder / "config", catalogue, variables)


@pytest.fixture(scope="module")
def sim(module_environment: Path) -> Iterator[HubSimulator]:
    simulator = start_simulator(REPOS, SEED)
    for repo_id in FRESH:
        simulator.add(repo_id, tags=("gguf", "text-generation"))
    try:
        yield simulator
    finally:
        simulator.stop()


def in_window(sim: HubSimulator, setup: Setup, first_partition: str) -> dict[str, str]:
    """repo_id -> sha of the GGUF repos an incremental sync's partitions cover: those modified since
    midnight (UTC) of its first partition, the day incremental_window_hours before the sync began.
    The partition comes from the sync itself, so a sync that straddles midnight is judged by its own
    window."""
    settings = load_settings(directory=setup.config_dir, use_environment=False).settings
    first_day = datetime.strptime(first_partition, "%Y-%m-%d").replace(tzinfo=UTC)
    return {
        repo_id: repo.sha
        for repo_id, repo in gguf_repos(sim, settings.discovery.authors).items()
        if repo.last_modified >= first_day
    }


ANNOUNCED_RANGE = re.compile(r"; partitions (\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def first_partition(output: str) -> str:
    """The first partition a `ggufsync sync` said it covers, from its first line."""
    match = ANNOUNCED_RANGE.search(output)
    assert match is not None, output
    return match.group(1)


# ----- two syncs at once ------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def shared(sim: HubSimulator, tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return make_setup(sim, tmp_path_factory.mktemp("shared"))


def started_together(setup: Setup, arguments: list[str], count: int) -> list[Finished]:
    """`count` `ggufsync` processes started at once with the setup's environment, run to the end."""
    processes = [
        subprocess.Popen(
            [str(GGUFSYNC), *arguments],
            cwd=setup.home.parent,
            env=clean_environment(**setup.variables),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    finished = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
        finished.append(Finished(process.returncode, stdout, stderr))
    return finished


@dataclass(frozen=True)
class ConcurrentSyncs:
    processes: list[Finished]
    in_window: dict[str, str]
    """repo_id -> sha of the GGUF repos in the syncs' window, as the Hub had them."""


@pytest.fixture(scope="module")
def concurrent_syncs(shared: Setup, sim: HubSimulator) -> ConcurrentSyncs:
    """Two `ggufsync sync --mode incremental` started together on one home, config and catalogue,
    logging each Hub request."""
    detailed = replace(
        shared,
        variables={
            **shared.variables,
            "GGUFSYNC_LOG_LEVEL": "INFO",
            "GGUFSYNC_MONITORING__ENABLE_DETAILED_LOGGING": "true",
        },
    )
    finished = started_together(detailed, ["sync", "--mode", "incremental"], 2)
    # The earlier first partition, should the two have started on either side of midnight.
    first = min(first_partition(process.stdout) for process in finished)
    return ConcurrentSyncs(finished, in_window(sim, shared, first))


def test_two_concurrent_incremental_syncs_both_exit_0(concurrent_syncs: ConcurrentSyncs) -> None:
    for process in concurrent_syncs.processes:
        assert process.returncode == 0, process.stderr[-3000:]
        assert "incremental sync done" in process.stdout


def test_two_concurrent_syncs_both_succeed_in_sync_runs_and_in_dagster(
    concurrent_syncs: ConcurrentSyncs, shared: Setup
) -> None:
    runs = rows_of(shared.catalogue, "SELECT run_id, mode, status, complete_pass FROM sync_runs")
    assert len(runs) == 2
    assert {(mode, status, complete) for _, mode, status, complete in runs} == {
        ("incremental", "succeeded", False)
    }
    statuses = shared.run_ids()
    assert set(statuses) == {run_id for run_id, *_ in runs}
    assert set(statuses.values()) == {dg.DagsterRunStatus.SUCCESS}


def test_two_concurrent_syncs_catalogue_each_repo_in_the_window_once(
    concurrent_syncs: ConcurrentSyncs, shared: Setup
) -> None:
    expected = concurrent_syncs.in_window
    assert set(FRESH) <= set(expected)
    history = rows_of(shared.catalogue, "SELECT repo_id, change, new_sha FROM model_history")
    assert sorted(history) == sorted((repo_id, "added", sha) for repo_id, sha in expected.items())
    [(new,)] = rows_of(shared.catalogue, "SELECT sum(repos_new) FROM sync_runs")
    assert new == len(expected)  # whichever sync ran second found the first one's work


def test_a_sync_plans_each_asset_once_for_its_whole_range(
    concurrent_syncs: ConcurrentSyncs, shared: Setup
) -> None:
    with dg.DagsterInstance.from_config(str(shared.home)) as instance:
        for run in instance.get_runs():
            planned = [
                entry.dagster_event.asset_key
                for entry in instance.all_logs(
                    run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
                )
                if entry.dagster_event is not None
            ]
            assert planned, "no materialization was planned"
            assert len(planned) == len(set(planned)), "an asset was planned once per partition"


def test_a_cli_sync_is_a_run_of_the_ggufsync_code_location_as_ui_runs_are(
    concurrent_syncs: ConcurrentSyncs, shared: Setup
) -> None:
    """The job's Runs tab filters on the repository label, the timeline on the run's origin."""
    with dg.DagsterInstance.from_config(str(shared.home)) as instance:
        runs = instance.get_runs(
            dg.RunsFilter(job_name=SYNC_JOB, tags={REPOSITORY_LABEL_TAG: f"{REPOSITORY}@{CODE_LOCATION}"})
        )
        assert len(runs) == 2
        for run in runs:
            assert run.remote_job_origin is not None
            assert run.remote_job_origin.location_name == CODE_LOCATION
            assert run.remote_job_origin.repository_origin.repository_name == REPOSITORY


def test_the_code_location_cli_runs_are_filed_under_is_the_one_workspace_yaml_loads() -> None:
    [entry] = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())["load_from"]
    assert entry["python_module"]["location_name"] == CODE_LOCATION


PROGRESS_LINE = re.compile(r"^  (listing|files): .*requests \(", re.MULTILINE)


def test_a_sync_with_progress_shows_each_hub_steps_progress_on_stderr(
    sim: HubSimulator, tmp_path: Path
) -> None:
    [finished] = started_together(make_setup(sim, tmp_path), ["sync", "--mode", "full", "--progress"], 1)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert set(PROGRESS_LINE.findall(finished.stderr)) == {"listing", "files"}
    files_done = re.findall(r"^  files: (\d+)/(\d+) repos", finished.stderr, re.MULTILINE)
    assert files_done
    done, total = files_done[-1]
    assert done == total  # the final line: every repo done


def test_a_sync_off_a_terminal_prints_no_progress_lines(concurrent_syncs: ConcurrentSyncs) -> None:
    for process in concurrent_syncs.processes:
        assert not PROGRESS_LINE.search(process.stderr)


def test_request_lines_go_to_the_homes_requests_log_and_not_to_the_runs_event_log(
    concurrent_syncs: ConcurrentSyncs, shared: Setup
) -> None:
    requests = (shared.home / REQUEST_LOG).read_text()
    assert re.search(r"/api/models\S* -> 200 in \d+ ms$", requests, re.MULTILINE), requests[:2000]
    with dg.DagsterInstance.from_config(str(shared.home)) as instance:
        for run in instance.get_runs():
            lines = [
                entry.user_message for entry in instance.all_logs(run.run_id) if not entry.is_dagster_event
            ]
            assert any(re.match(r"\w+ \S+\.\.\S+: \{", line) for line in lines), lines  # a step's figures
            assert not [line for line in lines if " -> 200 in " in line]


# ----- dry runs ---------------------------------------------------------------------------------


def dry_run(
    setup: Setup, workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """`ggufsync sync --dry-run` in this process, with the setup's environment, in `workdir` (where
    the command writes logs/sync.log)."""
    for name, value in setup.variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(workdir)
    code = main(["sync", "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


PLAN_LINES = {
    "refresh": re.compile(r"^  repos to refresh:\s+(\d+)$", re.MULTILINE),
    "requests": re.compile(r"^  requests needed:\s+(\d+) \((\d+) listing, (\d+) detail\)$", re.MULTILINE),
    "time": re.compile(r"^  time at the configured rates: (\d+) s$", re.MULTILINE),
}


def plan_numbers(output: str) -> tuple[int, int, int, int, int]:
    """(repos to refresh, requests, listing requests, detail requests, seconds) from a printed plan."""

    def numbers(line: str) -> list[int]:
        match = PLAN_LINES[line].search(output)
        assert match is not None, output
        return [int(group) for group in match.groups()]

    [refresh], [total, listing, detail], [seconds] = numbers("refresh"), numbers("requests"), numbers("time")
    return refresh, total, listing, detail, seconds


def test_a_first_dry_run_prints_the_plan_and_writes_nothing(
    sim: HubSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = make_setup(sim, tmp_path)
    sim.clear_requests()

    output = dry_run(setup, tmp_path, monkeypatch, capsys)

    listing_requests = sum(1 for r in sim.requests if r.path == LISTING_PATH)
    assert all(r.path == LISTING_PATH for r in sim.requests)  # a plan only lists
    expected = in_window(sim, setup, first_partition(output))
    assert set(FRESH) <= expected.keys()
    refresh, total, listing, detail, seconds = plan_numbers(output)
    assert "dry run: nothing was written" in output
    assert refresh == len(expected)
    assert all(f"    {repo_id}\n" in output for repo_id in FRESH)
    per_repo = requests_per_repo(load_settings(directory=setup.config_dir, use_environment=False).settings)
    assert per_repo == 1 + 2 * RANGE_READS_PER_HEADER  # a tree, then a header read's redirects and downloads
    assert (listing, detail) == (listing_requests, per_repo * len(expected))
    assert total == listing + detail
    assert seconds == round(total / RATE)
    assert not setup.catalogue.parent.exists()
    assert setup.run_ids() == {}


def test_a_full_dry_run_names_twenty_repos_then_says_how_many_more(
    sim: HubSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = make_setup(sim, tmp_path)
    full = replace(setup, variables={**setup.variables, "GGUFSYNC_SYNC_BEHAVIOR__MODE": "full"})

    output = dry_run(full, tmp_path, monkeypatch, capsys)

    refresh, *_ = plan_numbers(output)
    named = re.findall(r"^    (?!\.\.\.)\S+$", output, re.MULTILINE)
    assert refresh > LISTED_REPOS
    assert len(named) == LISTED_REPOS
    assert f"    ... and {refresh - LISTED_REPOS:,} more\n" in output


def test_the_announced_line_is_printed_once(
    sim: HubSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = make_setup(sim, tmp_path)
    for name, value in {**setup.variables, "GGUFSYNC_LOG_LEVEL": "DEBUG"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["sync", "--dry-run"]) == 0
    captured = capsys.readouterr()
    announced = captured.out.splitlines()[0]
    assert announced.startswith("incremental sync (")
    assert announced not in captured.err
    assert announced in (tmp_path / LOG_FILE).read_text()


def test_a_dry_run_after_syncs_plans_the_changed_repo_and_changes_nothing(
    concurrent_syncs: ConcurrentSyncs,
    shared: Setup,
    sim: HubSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = {p: p.read_bytes() for p in sorted(shared.catalogue.parent.rglob("*")) if p.is_file()}
    runs = shared.run_ids()
    edited = sim.edit(FRESH[1])

    output = dry_run(shared, tmp_path, monkeypatch, capsys)

    refresh, *_ = plan_numbers(output)
    assert refresh == 1
    assert "(0 new, 1 changed," in output
    assert f"    {edited.id}\n" in output
    assert {p: p.read_bytes() for p in sorted(shared.catalogue.parent.rglob("*")) if p.is_file()} == files
    assert shared.run_ids() == runs


def test_commands_started_together_on_a_new_dagster_home_leave_it_usable(
    sim: HubSimulator, tmp_path: Path
) -> None:
    # Opening an instance creates its SQLite storages; processes doing that at once must not stamp
    # two schema versions, or no later command can open the home.
    setup = make_setup(sim, tmp_path)

    finished = started_together(setup, ["sync", "--dry-run"], 3)

    assert [p.returncode for p in finished] == [0, 0, 0], [p.stderr[-2000:] for p in finished]
    assert setup.run_ids() == {}


def test_a_sync_command_closes_the_run_history_it_wrote(sim: HubSimulator, tmp_path: Path) -> None:
    # SQLite folds a file's write-ahead log back in when its last connection closes; one left behind
    # is a connection the command never closed (and a megabyte or more on disk per run).
    setup = make_setup(sim, tmp_path)

    done = ggufsync(["sync", "--mode", "incremental"], cwd=tmp_path, variables=setup.variables)

    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(path.name for path in setup.home.rglob("*.db-wal")) == []  # before anything opens them
    assert list(setup.run_ids().values()) == [dg.DagsterRunStatus.SUCCESS]


def test_a_sync_command_writes_its_log_to_logs_sync_log_in_the_working_directory(
    sim: HubSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = make_setup(sim, tmp_path / "setup")
    verbose = replace(setup, variables={**setup.variables, "GGUFSYNC_LOG_LEVEL": "INFO"})
    workdir = tmp_path / "workdir"
    workdir.mkdir()

    output = dry_run(verbose, workdir, monkeypatch, capsys)

    announced = output.splitlines()[0]
    assert announced in (workdir / LOG_FILE).read_text()


def test_a_sync_without_a_terminal_keeps_its_progress_and_outcome_in_logs_sync_log(
    sim: HubSimulator, tmp_path: Path
) -> None:
    setup = make_setup(sim, tmp_path)

    done = ggufsync(
        ["sync", "--mode", "incremental", "--no-progress"], cwd=tmp_path, variables=setup.variables
    )

    assert done.returncode == 0, done.stderr[-3000:]
    kept = (tmp_path / LOG_FILE).read_text()
    assert re.search(r"ggufsync\.progress: listing: \d+ requests", kept), kept
    assert re.search(r"ggufsync\.progress: files: \d+/\d+ repos", kept), kept
    assert "ggufsync.cli: incremental sync (" in kept
    assert "ggufsync.cli: incremental sync done in " in kept
    assert "  files: " not in done.stderr  # the live view stays off


def test_a_sync_command_removes_the_log_handlers_it_added_when_it_ends(
    sim: HubSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = make_setup(sim, tmp_path)
    loggers = [logging.getLogger(), logging.getLogger(LOGGER)]
    before = [list(logger.handlers) for logger in loggers]

    dry_run(setup, tmp_path, monkeypatch, capsys)

    assert [list(logger.handlers) for logger in loggers] == before


# ----- syncs that cannot go ahead ---------------------------------------------------------------


def ggufsync(
    arguments: list[str], *, cwd: Path, variables: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`ggufsync arguments` run to the end in `cwd`, with `variables` and no developer environment."""
    return subprocess.run(
        [str(GGUFSYNC), *arguments],
        cwd=cwd,
        env=clean_environment(**variables),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


@contextlib.contextmanager
def closed_loopback_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound without listening, so that nothing else can
    take it and listen while it is in use."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


def sync_with_the_hub_down(setup: Setup, folder: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`ggufsync sync` against an endpoint that refuses connections, with no retries."""
    with closed_loopback_port() as port:
        unreachable = {
            **setup.variables,
            "HF_ENDPOINT": f"http://127.0.0.1:{port}",
            "GGUFSYNC_RATE_LIMITING__MAX_RETRIES": "0",
            "GGUFSYNC_ERROR_HANDLING__MAX_RECOVERY_ATTEMPTS": "0",
            **variables,
        }
        return ggufsync(["sync", "--mode", "incremental"], cwd=folder, variables=unreachable)


def test_a_sync_that_fails_exits_1_and_names_its_run_on_stderr(sim: HubSimulator, tmp_path: Path) -> None:
    setup = make_setup(sim, tmp_path)

    done = sync_with_the_hub_down(setup, tmp_path)

    assert done.returncode == EXIT_SYNC_FAILED, done.stdout + done.stderr
    named = re.search(r"^sync failed \(run ([0-9a-f-]{36})\): .+$", done.stderr, re.MULTILINE)
    assert named is not None, done.stderr
    assert setup.run_ids() == {named.group(1): dg.DagsterRunStatus.FAILURE}


def test_a_sync_command_that_fails_alerts_itself_with_no_daemon_running(
    sim: HubSimulator, tmp_path: Path
) -> None:
    setup = make_setup(sim, tmp_path)
    alerting = {
        "GGUFSYNC_MONITORING__ENABLE_ALERTS": "true",
        "GGUFSYNC_ERROR_HANDLING__ENABLE_NOTIFICATIONS": "true",
        "GGUFSYNC_NOTIFICATIONS__ENABLE_FAILURE_NOTIFICATIONS": "true",
    }

    done = sync_with_the_hub_down(setup, tmp_path, **alerting)

    assert done.returncode == EXIT_SYNC_FAILED, done.stdout + done.stderr
    [run_id] = setup.run_ids()
    assert f"[failure] sync run {run_id[:8]} failed: gguf_model_listing" in done.stderr


def test_a_sync_outside_the_project_reads_the_config_folder_it_is_given(
    sim: HubSimulator, tmp_path: Path
) -> None:
    # No ./config where it runs, and no GGUFSYNC_CONFIG_DIR: only --config-dir names the folder.
    setup = make_setup(sim, tmp_path / "setup")
    variables = {name: value for name, value in setup.variables.items() if name != "GGUFSYNC_CONFIG_DIR"}
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    done = ggufsync(
        ["sync", "--mode", "incremental", "--config-dir", str(setup.config_dir)],
        cwd=workdir,
        variables=variables,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "incremental sync done" in done.stdout
    assert list(setup.run_ids().values()) == [dg.DagsterRunStatus.SUCCESS]


# ----- the code location ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validations(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finished]:
    """`dagster definitions validate -w workspace.yaml` for each shipped environment, and for a
    config folder with a broken value; all run at once (each loads Dagster for seconds)."""
    folder = tmp_path_factory.mktemp("validate")
    shipped = copy_config(folder / "shipped")
    broken = copy_config(folder / "broken")
    staging = broken / "sync-config-staging.yaml"
    staging.write_text(
        staging.read_text().replace("min_completeness_score: 0.92", "min_completeness_score: 7")
    )
    cases = {name: (shipped, name) for name in ENVIRONMENTS} | {"broken": (broken, "staging")}
    processes = {}
    for name, (config_dir, environment) in cases.items():
        variables = clean_environment(
            DAGSTER_HOME=str(folder / f"home-{name}"),
            GGUFSYNC_CONFIG_DIR=str(config_dir),
            HF_HOME=str(folder / "hf_home"),
            SYNC_ENVIRONMENT=environment,
        )
        (folder / f"home-{name}").mkdir()
        processes[name] = subprocess.Popen(
            [str(GGUFSYNC.with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
            cwd=REPO_ROOT,
            env=variables,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    results = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=SUBPROCESS_TIMEOUT)
        results[name] = Finished(process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_code_location_validates_for_every_shipped_environment(
    validations: dict[str, Finished], environment: str
) -> None:
    result = validations[environment]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful for code location ggufsync" in result.stdout + result.stderr


def test_the_code_location_fails_validation_with_a_clear_message_on_a_broken_config(
    validations: dict[str, Finished],
) -> None:
    result = validations["broken"]
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "invalid ggufsync configuration" in output
    assert "sync-config-staging.yaml: validation.min_completeness_score = 7" in output
    assert "less than or equal to 1" in output
