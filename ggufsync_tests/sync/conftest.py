"""The sync steps run against the Hub simulator into a real catalogue file, as the assets run them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter
from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hubsim import HubSimulator, Repo
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.completeness import CompletenessResult, score_completeness
from ggufsync_assets.sync.listing import ListingResult, list_window
from ggufsync_assets.sync.refresh import FilesResult, refresh_files
from ggufsync_assets.sync.window import Window
from ggufsync_tests.hub_fixtures import HUB_NOW, is_gguf_file

T = TypeVar("T")

CATALOGUE_REPOS = 60
GENEROUS_QUOTA = 100_000
"""Enough that the client's spreading of the advertised budget never slows a test down."""
CDN_HOST = "127.0.0.2"
EVERYTHING = Window(None, None)
SYNC_NOW = HUB_NOW


def settings_for(sim: HubSimulator, **sections: dict[str, Any]) -> Settings:
    """Settings pointed at the simulator, fast enough for tests; `sections` add to the defaults."""
    values: dict[str, dict[str, Any]] = {
        "hub": {"endpoint": sim.url},
        "security": {"allowed_domains": [CDN_HOST]},
        "rate_limiting": {"requests_per_second": 500, "requests_per_hour": 1_000_000},
        # A header read fetches a few MiB a repo; the tests about headers ask for them.
        "gguf_headers": {"read": False},
    }
    for name, section in sections.items():
        values[name] = {**values.get(name, {}), **section}
    return Settings(**values)


class Sync:
    """One catalogue synced from one simulator: each call runs one step with a fresh client and writer."""

    def __init__(self, sim: HubSimulator, store: CatalogueStore, settings: Settings) -> None:
        self.sim = sim
        self.store = store
        self.settings = settings

    def _run(self, step: Callable[[HubClient, CatalogueWriter], Coroutine[Any, Any, T]]) -> T:
        options = ClientOptions.from_settings(
            self.settings, backoff_base_seconds=0.01, backoff_max_seconds=0.2, timeout_seconds=30.0
        )

        async def main() -> T:
            async with HubClient(options) as client:
                with self.store.writer() as writer:
                    return await step(client, writer)

        return asyncio.run(main())

    def list(
        self, window: Window = EVERYTHING, *, now: datetime = SYNC_NOW, run_id: str = "run-1"
    ) -> ListingResult:
        return self._run(
            lambda client, writer: list_window(client, writer, self.settings, window, run_id=run_id, now=now)
        )

    def refresh(
        self, window: Window = EVERYTHING, *, now: datetime = SYNC_NOW, run_id: str = "run-1"
    ) -> FilesResult:
        return self._run(
            lambda client, writer: refresh_files(
                client, writer, self.settings, window, run_id=run_id, now=now
            )
        )

    def score(self, window: Window = EVERYTHING, threshold: float = 0.9) -> CompletenessResult:
        with self.store.writer() as writer:
            return score_completeness(writer, window, threshold)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.store.writer() as writer:
            return writer.con.sql(sql, params=list(params) or None).fetchall()

    def repo_ids(self) -> set[str]:
        return {r for (r,) in self.rows("SELECT repo_id FROM current_models")}


def gguf_repos(sim: HubSimulator, window: Window = EVERYTHING) -> dict[str, Repo]:
    """Ground truth: the simulator's repos with at least one .gguf file, modified within `window`."""
    return {
        repo.id: repo
        for repo in sim.state.repos()
        if any(is_gguf_file(f.path) for f in repo.files) and window.contains(repo.last_modified)
    }


def tree_requests(sim: HubSimulator) -> set[str]:
    """The repos whose file tree the simulator was asked for."""
    return {
        r.path.removeprefix("/api/models/").split("/tree/", 1)[0] for r in sim.requests if "/tree/" in r.path
    }


@pytest.fixture
def sim(hub_sim_factory: Callable[..., HubSimulator]) -> HubSimulator:
    return hub_sim_factory(repos=CATALOGUE_REPOS, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)


@pytest.fixture
def sync_factory(tmp_path: Path) -> Callable[..., Sync]:
    """`make(sim, name="catalogue", **sections)`: a Sync into its own catalogue file."""

    def make(sim: HubSimulator, name: str = "catalogue", **sections: dict[str, Any]) -> Sync:
        return Sync(
            sim, CatalogueStore(tmp_path / f"{name}.duckdb", chunk_size=25), settings_for(sim, **sections)
        )

    return make


@pytest.fixture
def sync(sim: HubSimulator, sync_factory: Callable[..., Sync]) -> Sync:
    return sync_factory(sim)
