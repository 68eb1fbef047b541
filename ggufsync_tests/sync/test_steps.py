"""The sync steps against the Hub simulator: what a listing catalogues, which trees a refresh fetches,
what becomes of broken records, and how completeness is summarised."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFWriter

from ggufsync_assets.hubsim import HubSimulator, gguf_file, small_file
from ggufsync_assets.sync.discovery import PROBE_MARGIN, strategies
from ggufsync_assets.sync.window import Window
from ggufsync_tests.hub_fixtures import is_gguf_file
from ggufsync_tests.sync.conftest import (
    CATALOGUE_REPOS,
    GENEROUS_QUOTA,
    SYNC_NOW,
    Sync,
    gguf_repos,
    tree_requests,
)

LATER = SYNC_NOW + timedelta(hours=6)


# ----- listing ----------------------------------------------------------------------------------


def test_a_repo_modified_while_a_complete_pass_pages_the_hub_is_still_listed(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA, max_page_size=2)
    for age in range(1, 7):
        sim.add(f"someone/Model-{age}-GGUF", tags=("gguf",), at=SYNC_NOW - timedelta(days=age))
    # Once the first page is out, the oldest repo is edited: it moves ahead of the pages to come.
    sim.after_serving("/api/models", lambda: sim.edit("someone/Model-6-GGUF", at=SYNC_NOW))
    sync = sync_factory(sim, sync_behavior={"enable_multi_strategy_discovery": False})

    result = sync.list()

    assert result.listed == 6
    assert "someone/Model-6-GGUF" in sync.repo_ids()


def test_listing_everything_catalogues_exactly_the_repos_with_gguf_files(
    sync: Sync, sim: HubSimulator
) -> None:
    truth = gguf_repos(sim)
    assert 0 < len(truth) < CATALOGUE_REPOS  # the catalogue holds a repo without .gguf files
    assert any("gguf" not in repo.tags for repo in truth.values())  # and one the gguf tag misses

    result = sync.list()

    assert sync.repo_ids() == set(truth)
    assert (result.listed, result.new, result.rejected) == (len(truth), len(truth), 0)


def test_listed_rows_carry_the_hubs_values(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    truth = gguf_repos(sim)
    found = sync.rows("SELECT repo_id, sha, last_modified, downloads, gated, architecture FROM models")
    assert {r[0]: r[1:] for r in found} == {
        repo.id: (
            repo.sha,
            repo.last_modified,
            repo.downloads,
            bool(repo.gated),
            (repo.gguf or {}).get("architecture"),
        )
        for repo in truth.values()
    }


def test_listing_a_window_catalogues_only_repos_modified_within_it(sync: Sync, sim: HubSimulator) -> None:
    moments = sorted(repo.last_modified for repo in gguf_repos(sim).values())
    window = Window(moments[10], moments[40])  # from the 11th oldest (included) to the 41st (excluded)
    expected = gguf_repos(sim, window)
    assert len(expected) == 30

    result = sync.list(window)

    assert sync.repo_ids() == set(expected)
    assert result.listed == 30


def listing_limits(sim: HubSimulator, **query: list[str]) -> list[int]:
    """The records each listing request asked for (of those whose query holds `query`), in order."""
    listings = [r for r in sim.requests if r.path == "/api/models"]
    return [int(r.query["limit"][0]) for r in listings if all(r.query.get(k) == v for k, v in query.items())]


def test_listing_a_window_the_catalogue_knows_asks_each_strategy_for_one_page_sized_to_it(
    sync: Sync, sim: HubSimulator
) -> None:
    sync.list()
    newest = sorted(repo.last_modified for repo in gguf_repos(sim).values())[-10:]
    window = Window(newest[0], None)
    sim.clear_requests()

    result = sync.list(window, now=LATER, run_id="run-2")

    assert result.listed == len(gguf_repos(sim, window)) == 10
    limits = listing_limits(sim)
    assert len(limits) == len(strategies(sync.settings, window.start))
    assert max(limits) <= 10 + PROBE_MARGIN


def test_a_window_holding_more_than_a_strategys_first_page_is_listed_whole(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=3 * PROBE_MARGIN, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    sync = sync_factory(sim)
    window = Window(min(repo.last_modified for repo in sim.state.repos()), None)
    truth = gguf_repos(sim, window)
    assert len([repo for repo in truth.values() if "gguf" in repo.tags]) > PROBE_MARGIN

    sync.list(window)

    assert sync.repo_ids() == set(truth)
    assert listing_limits(sim, filter=["gguf"]) == [PROBE_MARGIN, 1000]


def test_a_second_identical_listing_reports_every_repo_unchanged(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    history = sync.rows("SELECT * FROM model_history")

    again = sync.list(now=LATER, run_id="run-2")

    listed = len(gguf_repos(sim))
    assert (again.listed, again.unchanged, again.new, again.changed, again.restored) == (
        listed,
        listed,
        0,
        0,
        0,
    )
    assert sync.rows("SELECT * FROM model_history") == history


def test_an_edited_repo_is_listed_as_changed(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    edited = sim.edit(sorted(gguf_repos(sim))[7])

    again = sync.list(now=LATER, run_id="run-2")

    assert (again.changed, again.unchanged) == (1, len(gguf_repos(sim)) - 1)
    assert sync.rows("SELECT repo_id, change, new_sha, run_id FROM changes_since(?)", LATER) == [
        (edited.id, "changed", edited.sha, "run-2")
    ]


def test_malformed_listing_records_are_rejected_with_a_reason_and_the_run_goes_on(
    sync: Sync, sim: HubSimulator
) -> None:
    # One record broken in each of the first three listing pages (a missing id or a numeric lastModified).
    sim.faults.script("malformed", count=3, path_prefix="/api/models")

    result = sync.list()

    rejected = sync.rows("SELECT run_id, stage, reason, record FROM rejected_records")
    assert result.rejected == len(rejected) == 3
    for run_id, stage, reason, record in rejected:
        assert (run_id, stage) == ("run-1", "listing")
        assert reason.startswith(("id:", "lastModified:"))
        assert json.loads(record)["_id"]
    truth = gguf_repos(sim)
    catalogued = dict(sync.rows("SELECT repo_id, last_modified FROM models"))
    assert catalogued == {repo_id: truth[repo_id].last_modified for repo_id in catalogued}  # nothing made up
    assert len(set(truth) - set(catalogued)) <= 3  # a repo is lost only if its one listing was broken


def test_streaming_and_batch_listing_build_the_same_catalogue(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(
        repos=CATALOGUE_REPOS, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA, max_page_size=10
    )
    streamed = sync_factory(sim, "streamed", performance={"enable_streaming_processing": True})
    batched = sync_factory(sim, "batched", performance={"enable_streaming_processing": False})

    first, second = streamed.list(), batched.list()

    query = "SELECT * FROM models ORDER BY repo_id"
    assert streamed.rows(query) == batched.rows(query)
    assert len(streamed.rows(query)) == len(gguf_repos(sim))
    assert (first.listed, first.new) == (second.listed, second.new)
    assert streamed.rows("SELECT * FROM model_history ORDER BY repo_id") == batched.rows(
        "SELECT * FROM model_history ORDER BY repo_id"
    )


def strategies_finding(sync: Sync, sim: HubSimulator) -> dict[str, list[str]]:
    """Ground truth: which discovery strategies list each repo, in the order the sync runs them."""
    authors = {a.lower() for a in sync.settings.discovery.authors}
    found: dict[str, list[str]] = {}
    for repo in gguf_repos(sim).values():
        methods = [
            method
            for method, hit in (
                ("tag", "gguf" in repo.tags),
                ("search", "gguf" in repo.id.lower()),
                ("author", repo.author.lower() in authors),
            )
            if hit
        ]
        found[repo.id] = methods
    return found


def test_with_deduplication_a_repo_keeps_every_method_that_found_it(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    expected = {repo_id: sorted(methods) for repo_id, methods in strategies_finding(sync, sim).items()}
    assert dict(sync.rows("SELECT repo_id, discovery_methods FROM models")) == expected
    assert any(len(methods) == 3 for methods in expected.values())


def test_without_deduplication_a_repo_keeps_the_last_method_that_found_it(
    sim: HubSimulator, sync_factory: Callable[..., Sync]
) -> None:
    sync = sync_factory(sim, sync_behavior={"enable_deduplication": False})
    sync.list()
    expected = {repo_id: methods[-1:] for repo_id, methods in strategies_finding(sync, sim).items()}
    assert dict(sync.rows("SELECT repo_id, discovery_methods FROM models")) == expected
    assert len(sync.repo_ids()) == len(gguf_repos(sim))


# ----- file trees -------------------------------------------------------------------------------


def test_the_first_refresh_fetches_the_tree_of_every_listed_repo(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    sim.clear_requests()

    result = sync.refresh()

    assert tree_requests(sim) == set(gguf_repos(sim))
    assert result.refreshed == len(gguf_repos(sim))
    assert sync.rows("SELECT count(*) FROM models WHERE files_sha IS DISTINCT FROM sha") == [(0,)]


def test_refreshed_files_match_the_hubs_gguf_files(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    sync.refresh()
    expected = {
        (repo.id, f.path, f.size, f.lfs_sha256)
        for repo in gguf_repos(sim).values()
        for f in repo.files
        if is_gguf_file(f.path)
    }
    found = set(sync.rows("SELECT repo_id, path, size_bytes, lfs_sha256 FROM model_files"))
    assert found == expected
    unpinned = sync.rows(
        "SELECT f.download_url FROM model_files f JOIN models m USING (repo_id) "
        "WHERE NOT starts_with(f.download_url, concat(?, '/', m.repo_id, '/resolve/', m.sha, '/'))",
        sim.url,
    )
    assert unpinned == []


def test_a_second_refresh_fetches_no_tree(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    sync.refresh()
    sync.list(now=LATER, run_id="run-2")
    sim.clear_requests()

    result = sync.refresh(now=LATER, run_id="run-2")

    assert tree_requests(sim) == set()
    assert result.refreshed == 0


def test_after_an_edit_only_the_edited_repo_is_refreshed(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    sync.refresh()
    edited = sim.edit(sorted(gguf_repos(sim))[3])
    sync.list(now=LATER, run_id="run-2")
    sim.clear_requests()

    result = sync.refresh(now=LATER, run_id="run-2")

    assert tree_requests(sim) == {edited.id}
    assert result.refreshed == 1
    found = {path for (path,) in sync.rows("SELECT path FROM model_files WHERE repo_id = ?", edited.id)}
    assert found == {f.path for f in edited.files if is_gguf_file(f.path)}
    assert sync.rows("SELECT files_sha FROM models WHERE repo_id = ?", edited.id) == [(edited.sha,)]


def test_a_refresh_fetches_only_trees_within_its_window(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    moments = sorted(repo.last_modified for repo in gguf_repos(sim).values())
    window = Window(moments[20], moments[30])
    sim.clear_requests()

    sync.refresh(window)

    assert tree_requests(sim) == set(gguf_repos(sim, window))


def test_a_tree_page_with_a_broken_entry_is_fetched_again_next_time(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    repo = max(gguf_repos(sim).values(), key=lambda r: len(r.files))
    sim.faults.script("malformed", count=1, path_prefix=f"/api/models/{repo.id}/tree/")

    first = sync.refresh()
    rejected = sync.rows("SELECT repo_id, stage FROM rejected_records")
    sim.clear_requests()
    sync.refresh(now=LATER, run_id="run-2")

    assert first.rejected == 1
    assert rejected == [(repo.id, "files")]
    assert tree_requests(sim) == {repo.id}
    found = {path for (path,) in sync.rows("SELECT path FROM model_files WHERE repo_id = ?", repo.id)}
    assert found == {f.path for f in repo.files if is_gguf_file(f.path)}


def test_file_verification_does_not_fail_a_gated_file_it_may_not_read(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    sim.add("someone/Gated-GGUF", gated="manual", tags=("gguf",), files=[gguf_file("m-Q4_K_M.gguf")])
    sync = sync_factory(sim, validation={"enable_file_verification": True})
    sync.list()

    result = sync.refresh()

    assert result.verification_failures == 0
    assert sync.rows("SELECT header_ok FROM model_files") == [(None,)]


def test_the_header_read_is_a_weights_files_not_an_importance_matrixs(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    files = [
        gguf_file("imatrix.gguf", quant="F32", size=1 << 20),
        gguf_file("qwen2.5-7b-instruct-q4_k_m.gguf"),
    ]
    sim.add("someone/Qwen2.5-7B-Instruct-i1-GGUF", tags=("gguf",), files=files)
    sync = sync_factory(sim, gguf_headers={"read": True})
    sync.list()
    sync.refresh()

    assert sync.rows("SELECT path FROM gguf_headers") == [("qwen2.5-7b-instruct-q4_k_m.gguf",)]


def test_a_file_cut_with_split_is_read_and_verified_from_its_first_part(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    first = gguf_file(
        "llama-2-70b.Q8_0.gguf-split-a", "meta-llama/Llama-2-70b-chat-hf", "Q8_0", size=40 << 30
    )
    rest = small_file("llama-2-70b.Q8_0.gguf-split-b", b"\0" * 1024)
    sim.add("TheBloke/Llama-2-70B-GGUF", tags=(), files=[first, rest])
    sync = sync_factory(sim, gguf_headers={"read": True}, validation={"enable_file_verification": True})
    sync.list()

    result = sync.refresh()

    assert (result.refreshed, result.verification_failures) == (1, 0)
    assert sync.rows("SELECT path, file_type_label, error FROM gguf_headers") == [
        ("llama-2-70b.Q8_0.gguf-split-a", "Q8_0", None)
    ]
    assert sync.rows("SELECT logical_file, parts, split_count FROM logical_files") == [
        ("llama-2-70b.Q8_0.gguf", 2, 2)
    ]


def test_a_file_type_written_after_the_tokenizer_is_read_on_to_when_the_name_says_no_quantization(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    sim.add("someone/Unnamed-GGUF", tags=("gguf",), files=[gguf_file("model.gguf", file_type_last=True)])
    sim.add("someone/Named-GGUF", tags=("gguf",), files=[gguf_file("m-Q4_K_M.gguf", file_type_last=True)])
    sync = sync_factory(sim, gguf_headers={"read": True})
    sync.list()
    sync.refresh()

    found = sync.rows(
        "SELECT repo_id, file_type_label, bytes_read > 1000000, error FROM gguf_headers ORDER BY 1"
    )
    # The name says Q4_K_M: the read stops at the tokenizer, a few KiB, and the header's type stays unknown.
    assert found == [
        ("someone/Named-GGUF", None, False, None),
        ("someone/Unnamed-GGUF", "Q4_K_M", True, None),
    ]


def test_a_gguf_file_too_short_for_a_header_is_unreadable_without_asking_for_it(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync]
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    sim.add("someone/Empty-GGUF", tags=("gguf",), files=[small_file("empty-Q4_K_M.gguf", b"")])
    sync = sync_factory(sim, gguf_headers={"read": True})
    sync.list()
    sync.refresh()

    assert sync.rows("SELECT range_requests, error FROM gguf_headers") == [
        (0, "not a readable GGUF header: the file holds 0 bytes")
    ]
    assert not [r for r in sim.requests if "/resolve/" in r.path]


def _header_out_of_range(folder: Path) -> bytes:
    """A GGUF file whose header states a 64-bit context length past BIGINT and file type 2**32 - 1."""
    path = folder / "odd.gguf"
    writer = GGUFWriter(path, "llama")
    writer.add_uint64("llama.context_length", 2**63)
    writer.add_block_count(2)
    writer.add_uint32("general.file_type", 2**32 - 1)
    writer.add_tensor("output_norm.weight", np.zeros(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def test_a_header_fact_no_column_can_hold_is_stored_as_unknown_and_the_rest_is_kept(
    hub_sim_factory: Callable[..., HubSimulator], sync_factory: Callable[..., Sync], tmp_path: Path
) -> None:
    sim = hub_sim_factory(repos=0, api_quota=GENEROUS_QUOTA, resolvers_quota=GENEROUS_QUOTA)
    sim.add(
        "someone/Odd-GGUF",
        tags=("gguf",),
        files=[small_file("odd-Q4_K_M.gguf", _header_out_of_range(tmp_path))],
    )
    sync = sync_factory(sim, gguf_headers={"read": True})
    sync.list()

    result = sync.refresh()

    assert (result.refreshed, result.headers_read) == (1, 1)
    assert sync.rows(
        "SELECT context_length, file_type, block_count, architecture, error FROM gguf_headers"
    ) == [(None, None, 2, "llama", None)]


# ----- completeness -----------------------------------------------------------------------------


def _break_tree(sim: HubSimulator) -> str:
    """A repo whose file tree fails to fetch on every attempt; its id."""
    repo_id = sorted(gguf_repos(sim))[0]
    sim.faults.script("error", count=100, status=500, path_prefix=f"/api/models/{repo_id}/tree")
    return repo_id


def test_score_completeness_summarises_the_scores_it_writes(sync: Sync, sim: HubSimulator) -> None:
    _break_tree(sim)
    sync.list()
    sync.refresh()

    result = sync.score(threshold=0.9)

    [(count, mean, minimum, below, unscored, mean_card)] = sync.rows(
        "SELECT count(*), avg(completeness_score), min(completeness_score), "
        "count(*) FILTER (WHERE completeness_score < 0.9), "
        "count(*) FILTER (WHERE completeness_score IS NULL), avg(card_score) FROM current_models"
    )
    assert unscored == 0
    assert result.scored == count
    assert result.mean == pytest.approx(mean)
    assert result.minimum == pytest.approx(minimum)
    assert result.below_threshold == below == 1
    assert result.mean_card_score == pytest.approx(mean_card)


def test_a_tree_that_fails_to_fetch_is_a_completeness_gap_of_its_repo_only(
    sync: Sync, sim: HubSimulator
) -> None:
    broken = _break_tree(sim)
    sync.list()
    sync.refresh()
    sync.score()

    gaps = dict(
        sync.rows("SELECT repo_id, completeness_gaps FROM current_models WHERE len(completeness_gaps) > 0")
    )
    assert gaps == {broken: ["no file tree"]}


def test_score_completeness_scores_only_its_window(sync: Sync, sim: HubSimulator) -> None:
    sync.list()
    sync.refresh()
    moments = sorted(repo.last_modified for repo in gguf_repos(sim).values())
    window = Window(moments[0], moments[15])

    result = sync.score(window)

    assert result.scored == 15
    assert sync.rows("SELECT count(*) FROM models WHERE completeness_score IS NOT NULL") == [(15,)]
