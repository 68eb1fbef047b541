"""Settings that change how the files step works: parallelism, header reads, verification."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hubsim import HubSimulator, gguf_file, small_file
from ggufsync_assets.sync.headers import HEADER_FIRST_READ
from ggufsync_assets.sync.refresh import refresh_files
from ggufsync_tests.sync.conftest import EVERYTHING, SYNC_NOW, Sync

HEADERS = {"read": True}
"""The shipped default, which the step tests' settings turn off."""


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


def test_headers_fill_the_facts_the_listing_lacked(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _summaryless(sim)
    sync = sync_factory(sim, gguf_headers=HEADERS)
    sync.list()
    assert sync.refresh().headers_read == 1
    [(architecture, context_length)] = sync.rows(
        "SELECT architecture, context_length FROM models WHERE repo_id = ?", repo_id
    )
    assert architecture == "qwen2"
    assert context_length == 32768


def _two_quantizations(sim: HubSimulator) -> str:
    files = [gguf_file("model-Q4_K_M.gguf"), gguf_file("model-Q8_0.gguf", quant="Q8_0")]
    return sim.add("someone/Two-GGUF", tags=("gguf",), files=files, gated=False).id


def test_one_representative_header_is_read_per_repo(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _two_quantizations(sim)
    sync = sync_factory(sim, gguf_headers=HEADERS)
    sync.list()
    sync.refresh()
    assert sync.rows("SELECT repo_id, path, file_type_label FROM gguf_headers") == [
        (repo_id, "model-Q4_K_M.gguf", "Q4_K_M")
    ]


def test_experimental_features_read_every_logical_files_header(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    _two_quantizations(sim)
    sync = sync_factory(sim, custom_settings={"enable_experimental_features": True}, gguf_headers=HEADERS)
    sync.list()
    sync.refresh()
    assert sync.rows("SELECT path FROM gguf_headers ORDER BY path") == [
        ("model-Q4_K_M.gguf",),
        ("model-Q8_0.gguf",),
    ]


def test_without_header_reads_no_header_is_fetched(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _summaryless(sim)
    sync = sync_factory(sim, gguf_headers={"read": False})
    sync.list()
    assert sync.refresh().headers_read == 0
    assert sync.rows("SELECT architecture FROM models WHERE repo_id = ?", repo_id) == [(None,)]
    assert not [r for r in sim.requests if r.host == "cdn"]


def _split(sim: HubSimulator) -> str:
    """A model in two parts; gguf-split writes the split keys after the tokenizer."""
    parts = [gguf_file(f"model-Q4_K_M-0000{n}-of-00002.gguf", split=(n - 1, 2)) for n in (1, 2)]
    return sim.add("someone/Split-GGUF", tags=("gguf",), files=parts, gguf=None).id


def test_a_header_is_read_in_growing_ranges_never_past_max_bytes(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _split(sim)  # read whole, through a Qwen tokenizer: a header of a few MiB
    sync = sync_factory(sim, gguf_headers={**HEADERS, "max_bytes": 1024 * 1024})
    sync.list()
    result = sync.refresh()
    [(error, bytes_read, requests)] = sync.rows(
        "SELECT error, bytes_read, range_requests FROM gguf_headers WHERE repo_id = ?", repo_id
    )
    assert error == "header larger than gguf_headers.max_bytes (1048576 bytes)"
    assert bytes_read <= requests * 1024 * 1024
    assert requests > 1
    assert result.headers_unreadable == 1


def test_a_header_read_stops_at_the_tokenizer_once_the_models_facts_are_in(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _summaryless(sim)  # a Qwen tokenizer: a whole header of a few MiB
    sync = sync_factory(sim, gguf_headers=HEADERS)
    sync.list()
    sync.refresh()
    [(architecture, vocab_size, chat_template, bytes_read, requests)] = sync.rows(
        "SELECT architecture, vocab_size, has_chat_template, bytes_read, range_requests FROM gguf_headers "
        "WHERE repo_id = ?",
        repo_id,
    )
    assert (architecture, requests) == ("qwen2", 1)
    assert vocab_size > 150_000
    assert bytes_read <= HEADER_FIRST_READ
    assert chat_template is None  # it would follow the token list


def test_a_split_parts_header_is_read_whole_for_its_split_keys(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    repo_id = _split(sim)
    sync = sync_factory(sim, gguf_headers=HEADERS)
    sync.list()
    sync.refresh()
    [(split_count, chat_template, error)] = sync.rows(
        "SELECT split_count, has_chat_template, error FROM gguf_headers WHERE repo_id = ?", repo_id
    )
    assert error is None
    assert split_count == 2
    assert chat_template is not None


def test_an_unreadable_header_is_a_completeness_gap_and_a_reject(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    sim.add(
        "someone/Broken-GGUF", tags=("gguf",), files=[small_file("model-Q4_K_M.gguf", b"GGUF" + bytes(60))]
    )
    sync = sync_factory(sim, gguf_headers=HEADERS)
    sync.list()
    sync.refresh()
    sync.score()
    assert sync.rows("SELECT completeness_gaps FROM models") == [(["unreadable GGUF header"],)]
    [(stage, reason)] = sync.rows("SELECT stage, reason FROM rejected_records")
    assert stage == "files"
    assert reason.startswith("GGUF header of model-Q4_K_M.gguf: not a readable GGUF header: ")


def test_file_verification_reads_the_header_of_one_model_file_per_repo(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=100_000, resolvers_quota=100_000)
    _two_quantizations(sim)
    sync = sync_factory(sim, validation={"enable_file_verification": True}, gguf_headers={"read": False})
    sync.list()
    result = sync.refresh()
    assert (result.verified, result.verification_failures) == (1, 0)
    assert {r.path.rsplit("/", 1)[-1] for r in sim.requests if r.host == "api" and "/resolve/" in r.path} == {
        "model-Q4_K_M.gguf"
    }
    assert sync.rows("SELECT count(*) FROM model_files WHERE header_ok") == [(1,)]


def test_the_files_step_counts_the_repos_it_has_refreshed_of_those_it_declared(
    sim: HubSimulator, sync_factory: Callable[..., Sync]
) -> None:
    sync = sync_factory(sim)
    sync.list()

    async def main() -> tuple[int, int, int]:
        async with HubClient(ClientOptions.from_settings(sync.settings)) as client:
            with sync.store.writer() as writer:
                result = await refresh_files(
                    client, writer, sync.settings, EVERYTHING, run_id="run-1", now=SYNC_NOW
                )
            return client.stats.repos_done, client.stats.repos_total, result.refreshed

    done, total, refreshed = asyncio.run(main())
    assert done == total == refreshed > 0
