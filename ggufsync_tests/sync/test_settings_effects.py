"""Settings that change how the files step works: parallelism, verification, experimental headers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hubsim import HubSimulator, gguf_file
from ggufsync_assets.sync.refresh import refresh_files
from ggufsync_tests.sync.conftest import EVERYTHING, SYNC_NOW, Sync


def _peak_concurrency(sync: Sync) -> int:
    async def main() -> int:
        async with HubClient(ClientOptions.from_settings(sync.settings)) as client:
            with sync.store.writer() as writer:
                await refresh_files(client, writer, sync.settings, EVERYTHING, run_id="run-1", now=SYNC_NOW)
            return client.concurrency.peak_in_flight

    return asyncio.run(main())


def test_parallel_processing_fetches_trees_concurrently(
    sim: HubSimulator, sync_factory: Callable[..., Sync]
) -> None:
    sim.faults.script("slow", count=1000, path_prefix="/api/models/", delay=0.05)
    sync = sync_factory(sim, performance={"enable_parallel_processing": True})
    sync.list()
    assert _peak_concurrency(sync) > 1


def test_without_parallel_processing_trees_are_fetched_one_at_a_time(
    sim: HubSimulator, sync_factory: Callable[..., Sync]
) -> None:
    sim.faults.script("slow", count=1000, path_prefix="/api/models/", delay=0.05)
    sync = sync_factory(sim, performance={"enable_parallel_processing": False})
    sync.list()
    assert _peak_concurrency(sync) == 1


def _summaryless(sim: HubSimulator) -> str:
    repo = sim.add(
        "someone/NoSummary-GGUF", tags=("gguf",), files=[gguf_file("model-Q4_K_M.gguf")], gguf=None
    )
    return repo.id


def test_experimental_features_read_missing_facts_from_the_gguf_header(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _summaryless(sim)
    sync = sync_factory(sim, custom_settings={"enable_experimental_features": True})
    sync.list()
    assert sync.refresh().headers_read == 1
    [(architecture, context_length)] = sync.rows(
        "SELECT architecture, context_length FROM models WHERE repo_id = ?", repo_id
    )
    assert architecture == "qwen2"
    assert context_length == 32768


def test_without_experimental_features_no_header_is_read(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _summaryless(sim)
    sync = sync_factory(sim)
    sync.list()
    assert sync.refresh().headers_read == 0
    assert sync.rows("SELECT architecture FROM models WHERE repo_id = ?", repo_id) == [(None,)]
    assert not [r for r in sim.requests if r.host == "cdn"]


def test_file_verification_reads_the_magic_bytes_of_one_model_file_per_repo(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    sim.add(
        "someone/Verified-GGUF",
        tags=("gguf",),
        files=[gguf_file("model-Q4_K_M.gguf"), gguf_file("model-Q8_0.gguf", quant="Q8_0")],
    )
    sync = sync_factory(sim, validation={"enable_file_verification": True})
    sync.list()
    result = sync.refresh()
    assert (result.verified, result.verification_failures) == (1, 0)
    assert len([r for r in sim.requests if r.host == "cdn"]) == 1
    assert sync.rows("SELECT count(*) FROM model_files WHERE header_ok") == [(1,)]
