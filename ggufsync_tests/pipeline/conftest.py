"""Whole syncs end to end: the Hub simulator on loopback, the Dagster sync job, real catalogue files.

A full sync costs seconds of Dagster bookkeeping (one materialization per daily partition), so the
tests of one module share a simulator and a few syncs through module-scoped fixtures. Each sync is
recorded as a `SyncRun`: the Dagster result, the requests the simulator served during it, the Hub's
ground truth when it finished and a copy of the catalogue it published, so that a test reads the
state one sync left behind even after later syncs have run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.demo_cmd import demo_overrides
from ggufsync_assets.defs.jobs import SYNC_JOB, sync_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.hubsim import HubSimulator, Repo, RequestRecord
from ggufsync_assets.settings import Settings, SyncMode
from ggufsync_assets.settings.layers import CONFIG_DIR_VARIABLE
from ggufsync_tests.hub_fixtures import is_gguf_file
from ggufsync_tests.instances import sync_instance

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_CONFIG = REPO_ROOT / "config"
QUOTA = 1_000_000
"""The simulator's quotas: generous, so the client never spreads an advertised budget over time."""
CDN_HOST = "127.0.0.2"
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
LISTING_PATH = "/api/models"

_LEAKY_PREFIXES = ("GGUFSYNC_", "HF_", "HUGGINGFACE_")
_LEAKY_NAMES = ("SYNC_ENVIRONMENT", "SYNC_MODE", "MAX_CONCURRENCY", "LOG_LEVEL", "DAGSTER_HOME")


# ----- the Hub's ground truth -------------------------------------------------------------------


def discoverable(repo: Repo, authors: list[str]) -> bool:
    """What a sync can find: the gguf tag, "gguf" in the repo name, or a configured publisher."""
    return (
        "gguf" in repo.tags
        or "gguf" in repo.id.lower()
        or repo.author.lower() in {a.lower() for a in authors}
    )


def gguf_repos(sim: HubSimulator, authors: list[str]) -> dict[str, Repo]:
    """Ground truth: the public, discoverable repos with at least one .gguf file."""
    return {
        repo.id: repo
        for repo in sim.state.repos()
        if not repo.private and any(is_gguf_file(f.path) for f in repo.files) and discoverable(repo, authors)
    }


def license_of(repo: Repo) -> str | None:
    named = (repo.card_data or {}).get("license")
    if isinstance(named, str):
        return named
    return next((t.removeprefix("license:") for t in repo.tags if t.startswith("license:")), None)


def base_models_of(repo: Repo) -> list[str]:
    value = (repo.card_data or {}).get("base_model")
    if isinstance(value, str):
        return [value]
    return list(value or [])


def tree_requests(requests: list[RequestRecord]) -> set[str]:
    """The repos whose file tree was asked for."""
    return {
        r.path.removeprefix(f"{LISTING_PATH}/").split("/tree/", 1)[0] for r in requests if "/tree/" in r.path
    }


# ----- test isolation that outlives one test ----------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """One user's setup: a Dagster home, a config folder, a catalogue, and the environment naming them."""

    home: Path
    config_dir: Path
    catalogue: Path
    variables: dict[str, str]

    def run_ids(self) -> dict[str, dg.DagsterRunStatus]:
        if not (self.home / "dagster.yaml").exists():
            return {}
        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            return {run.run_id: run.status for run in instance.get_runs()}


def copy_config(target: Path) -> Path:
    """A private copy of the shipped config folder."""
    shutil.copytree(
        SHIPPED_CONFIG, target, ignore=shutil.ignore_patterns("audit.log", "sync-config_backup_*")
    )
    return target


def is_leaky(name: str) -> bool:
    """A variable that would carry the developer's settings, login or Dagster home into a test."""
    return name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES


def clean_environment(**variables: str) -> dict[str, str]:
    """For subprocesses: this process's environment without leaky variables, plus `variables`."""
    kept = {name: value for name, value in os.environ.items() if not is_leaky(name)}
    return {**kept, "HF_HUB_DISABLE_TELEMETRY": "1", **variables}


def user_environment(folder: Path, hub_url: str, catalogue: Path, **variables: str) -> dict[str, str]:
    """For a `ggufsync` subprocess: a user's own Dagster home, config folder and catalogue in
    `folder`, the simulator at `hub_url` as the Hub, and `variables` on top."""
    return clean_environment(
        DAGSTER_HOME=str(folder / "dagster_home"),
        GGUFSYNC_CONFIG_DIR=str(copy_config(folder / "config")),
        HF_ENDPOINT=hub_url,
        HF_HOME=str(folder / "hf_home"),
        GGUFSYNC_SECURITY__ALLOWED_DOMAINS=json.dumps([CDN_HOST]),
        GGUFSYNC_STORAGE__CATALOGUE_PATH=str(catalogue),
        **variables,
    )


@pytest.fixture(scope="module")
def module_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """For module-scoped fixtures: no developer environment, config folder or Hugging Face login
    (what ggufsync_tests/conftest.py does for each test, which starts after these fixtures)."""
    home = tmp_path_factory.mktemp("environment")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if is_leaky(name):
                patch.delenv(name)
        patch.setenv("HF_HOME", str(home / "hf_home"))
        patch.setenv("GGUFSYNC_CONFIG_DIR", str(home / "no-config-folder-requested"))
        patch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield home


def start_simulator(repos: int, seed: int, **options: Any) -> HubSimulator:
    """A simulator whose clock is the real one: incremental windows end at the real 'now'."""
    return HubSimulator(
        repos=repos, seed=seed, now=datetime.now(UTC), api_quota=QUOTA, resolvers_quota=QUOTA, **options
    ).start()


# ----- syncs ------------------------------------------------------------------------------------


def build_definitions(resource: SyncResource) -> dg.Definitions:
    """The code location's definitions for `resource`, built when a sync is about to run.

    Importing ggufsync_assets.definitions builds its module-level definitions from the environment's
    config folder. Imported at collection, that would read the developer's environment and the
    repository's config folder; imported here, it is inside an isolated environment, pointed at the
    resource's private config folder.
    """
    with pytest.MonkeyPatch.context() as patch:
        if resource.config_dir:
            patch.setenv(CONFIG_DIR_VARIABLE, resource.config_dir)
        module = importlib.import_module("ggufsync_assets.definitions")
    built: dg.Definitions = module.build_definitions(resource)
    return built


def rows_of(catalogue: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with CatalogueStore(catalogue).reader() as con:
        return con.execute(sql, list(params)).fetchall()


@dataclass
class SyncRun:
    """One sync job run and what it left behind."""

    result: dg.ExecuteInProcessResult
    requests: list[RequestRecord]
    truth: dict[str, Repo]
    snapshot: Path | None
    """A copy of the published catalogue as this run left it (None if nothing was published)."""
    log: list[str]
    """The run's log messages, as the Dagster UI shows them."""

    @property
    def run_id(self) -> str:
        return self.result.run_id

    @property
    def success(self) -> bool:
        return self.result.success

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        assert self.snapshot is not None, "this run published no catalogue"
        return rows_of(self.snapshot, sql, *params)

    def metadata(self, asset: str) -> dict[str, Any]:
        """The metadata of the asset's (first partition's) materialization, as plain values."""
        materializations = self.result.asset_materializations_for_node(asset)
        assert materializations, f"{asset} was not materialized"
        return {key: value.value for key, value in materializations[0].metadata.items()}

    def figures(self, step: str) -> dict[str, Any]:
        """What a partitioned step reported for the run's range, from its line in the run's log."""
        found = [line.split(": ", 1)[1] for line in self.log if line.startswith(f"{step} ") and ": {" in line]
        assert len(found) == 1, f"{step} reported {len(found)} times"
        figures: dict[str, Any] = json.loads(found[0])
        return figures

    def executed_steps(self) -> set[str]:
        return {
            e.step_key
            for e in self.result.all_events
            if e.event_type is dg.DagsterEventType.STEP_START and e.step_key
        }

    def check_results(self) -> dict[str, bool]:
        return {c.check_name: c.passed for c in self.result.get_asset_check_evaluations()}

    @property
    def tree_requests(self) -> set[str]:
        return tree_requests(self.requests)


class Pipeline:
    """A catalogue in a private folder, synced from one simulator by the real sync job."""

    def __init__(
        self, sim: HubSimulator, folder: Path, instance: dg.DagsterInstance, **overrides: Any
    ) -> None:
        self.sim = sim
        self.folder = folder
        self.config_dir = copy_config(folder / "config")
        self.catalogue = folder / "data" / "catalogue.duckdb"
        self.instance = instance
        self.overrides = {**demo_overrides(sim.url, self.catalogue), "debug_mode": False, **overrides}
        self.runs = 0

    @property
    def store(self) -> CatalogueStore:
        return CatalogueStore(self.catalogue)

    def resource(self, **overrides: Any) -> SyncResource:
        return SyncResource(
            config_dir=str(self.config_dir), overrides_json=json.dumps({**self.overrides, **overrides})
        )

    def settings(self, **overrides: Any) -> Settings:
        return self.resource(**overrides).load()

    def truth(self) -> dict[str, Repo]:
        return gguf_repos(self.sim, self.settings().discovery.authors)

    def sync(self, mode: SyncMode, **overrides: Any) -> SyncRun:
        """Run the sync job in `mode` (settings `overrides` on top of the pipeline's own)."""
        resource = self.resource(**overrides)
        job = build_definitions(resource).resolve_job_def(SYNC_JOB)
        self.sim.clear_requests()
        result = job.execute_in_process(
            instance=self.instance,
            tags=sync_tags(resource.load(), mode, datetime.now(UTC)),
            raise_on_error=False,
            run_config=QUIET_RUN,
        )
        requests = self.sim.requests
        self.runs += 1
        snapshot = None
        if self.catalogue.exists():
            snapshot = self.folder / "snapshots" / f"after-run-{self.runs}.duckdb"
            snapshot.parent.mkdir(exist_ok=True)
            shutil.copyfile(self.catalogue, snapshot)
        log = [
            entry.user_message
            for entry in self.instance.all_logs(result.run_id)
            if not entry.is_dagster_event
        ]
        return SyncRun(result, requests, self.truth(), snapshot, log)


NO_HEADER_READS = {"gguf_headers.read": False}
"""For syncs testing something else: a header read fetches a few MiB a repo over loopback. Header
reads are tested where they matter (test_full_sync, sync/test_settings_effects, the gate's CLI syncs)."""


@contextlib.contextmanager
def running_pipeline(
    tmp_path_factory: pytest.TempPathFactory, name: str, repos: int, seed: int, **overrides: Any
) -> Iterator[Pipeline]:
    """A simulator and a new Dagster instance shared by a module's syncs; stopped afterwards."""
    sim = start_simulator(repos, seed)
    try:
        with sync_instance() as instance:
            yield Pipeline(sim, tmp_path_factory.mktemp(name), instance, **overrides)
    finally:
        sim.stop()
