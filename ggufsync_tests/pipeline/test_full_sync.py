"""One full sync of a simulated Hub through the Dagster job: the catalogue it publishes is the Hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ggufsync_assets.catalogue.store import EXPORTED_TABLES
from ggufsync_assets.catalogue.web_exports import DOCUMENTS
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.hub_fixtures import is_gguf_file
from ggufsync_tests.pipeline.conftest import (
    LISTING_PATH,
    Pipeline,
    SyncRun,
    base_models_of,
    license_of,
    running_pipeline,
)

REPOS = 120
SEED = 11


@pytest.fixture(scope="module")
def pipeline(module_environment: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    with running_pipeline(tmp_path_factory, "full_sync", REPOS, SEED) as pipeline:
        yield pipeline


@pytest.fixture(scope="module")
def full(pipeline: Pipeline) -> SyncRun:
    return pipeline.sync(SyncMode.FULL)


def test_the_full_sync_run_succeeds_with_every_check_passing(full: SyncRun) -> None:
    assert full.success
    checks = full.check_results()
    assert set(checks) >= {
        "no_duplicate_keys",
        "rejects_below_bound",
        "completeness_meets_minimum",
        "listed_equals_catalogued",
    }
    assert all(checks.values()), checks


def test_the_catalogue_holds_exactly_the_discoverable_repos_with_gguf_files(
    full: SyncRun, pipeline: Pipeline
) -> None:
    everything = {repo.id for repo in pipeline.sim.state.repos()}
    assert 0 < len(full.truth) < len(everything)  # the Hub holds repos that are not GGUF repos
    assert any("gguf" not in repo.tags for repo in full.truth.values())  # and GGUF repos the tag misses

    catalogued = {r for (r,) in full.rows("SELECT repo_id FROM models")}
    assert catalogued == set(full.truth)
    assert full.rows("SELECT count(*) FROM models WHERE removed_at IS NOT NULL") == [(0,)]


def test_each_repo_carries_the_hubs_listing_values(full: SyncRun) -> None:
    found = full.rows(
        "SELECT repo_id, sha, last_modified, downloads, likes, gated, license, base_models FROM models"
    )
    assert {r[0]: r[1:] for r in found} == {
        repo.id: (
            repo.sha,
            repo.last_modified,
            repo.downloads,
            repo.likes,
            bool(repo.gated),
            license_of(repo),
            base_models_of(repo),
        )
        for repo in full.truth.values()
    }


def test_each_repo_carries_the_hubs_gguf_summary_else_its_headers_facts(full: SyncRun) -> None:
    found = full.rows("SELECT repo_id, architecture, parameter_count, context_length FROM models")
    expected = {}
    for repo in full.truth.values():
        summary = repo.gguf or {}
        family = next(f.gguf.family for f in repo.files if f.gguf and f.gguf.kind == "model")
        expected[repo.id] = (
            summary.get("architecture", family.architecture),
            summary.get("total"),  # a header states no parameter count
            summary.get("context_length", family.context_length),
        )
    assert {r[0]: r[1:] for r in found} == expected
    assert any(repo.gguf is None for repo in full.truth.values())  # a repo without a summary


def test_every_repo_we_may_read_has_the_header_of_one_weights_file(full: SyncRun) -> None:
    headers = full.rows(
        "SELECT repo_id, architecture, block_count, kv_bytes_per_token, error FROM gguf_headers"
    )
    readable = {repo.id for repo in full.truth.values() if not repo.gated}  # gated: no token here
    assert {repo_id for repo_id, *_ in headers} == readable
    assert all(error is None and block_count and per_token for _, _, block_count, per_token, error in headers)


def test_model_files_are_the_hubs_gguf_files_with_their_sizes(full: SyncRun) -> None:
    expected = {
        (repo.id, f.path, f.size) for repo in full.truth.values() for f in repo.files if is_gguf_file(f.path)
    }
    assert set(full.rows("SELECT repo_id, path, size_bytes FROM model_files")) == expected
    assert any("/" in path for _, path, _ in expected)  # files in folders are found too


def test_each_repos_file_count_and_bytes_sum_its_gguf_files(full: SyncRun) -> None:
    found = full.rows("SELECT repo_id, gguf_file_count, total_gguf_bytes FROM models")
    assert {r[0]: r[1:] for r in found} == {
        repo.id: (
            sum(1 for f in repo.files if is_gguf_file(f.path)),
            sum(f.size for f in repo.files if is_gguf_file(f.path)),
        )
        for repo in full.truth.values()
    }


def test_every_repo_records_the_discovery_methods_that_found_it(full: SyncRun, pipeline: Pipeline) -> None:
    authors = {a.lower() for a in pipeline.settings().discovery.authors}
    expected = {
        repo.id: sorted(
            method
            for method, hit in (
                ("tag", "gguf" in repo.tags),
                ("search", "gguf" in repo.id.lower()),
                ("author", repo.author.lower() in authors),
            )
            if hit
        )
        for repo in full.truth.values()
    }
    assert dict(full.rows("SELECT repo_id, discovery_methods FROM models")) == expected
    assert all(expected.values())


def test_a_full_sync_that_loses_nothing_scores_every_repo_complete(full: SyncRun) -> None:
    [(repos, complete, gaps)] = full.rows(
        "SELECT count(*), count(*) FILTER (WHERE completeness_score = 1.0), "
        "count(*) FILTER (WHERE len(completeness_gaps) > 0) FROM models"
    )
    assert complete == repos == len(full.truth)
    assert gaps == 0


def test_every_card_score_lies_between_zero_and_one(full: SyncRun) -> None:
    [(repos, scored, low, high)] = full.rows(
        "SELECT count(*), count(card_score), min(card_score), max(card_score) FROM models"
    )
    assert scored == repos
    assert 0.0 <= low < high <= 1.0  # the simulator plants repos without a card, license or base model


def test_sync_runs_records_one_succeeded_complete_pass(full: SyncRun) -> None:
    runs = full.rows(
        "SELECT run_id, mode, status, complete_pass, repos_listed, repos_new, repos_removed, "
        "finished_at >= started_at, error FROM sync_runs"
    )
    assert runs == [(full.run_id, "full", "succeeded", True, len(full.truth), len(full.truth), 0, True, None)]


def test_every_repo_has_an_added_history_row(full: SyncRun) -> None:
    history = full.rows("SELECT repo_id, change, old_sha, new_sha, run_id FROM model_history")
    assert sorted(history) == sorted(
        (repo.id, "added", None, repo.sha, full.run_id) for repo in full.truth.values()
    )


def test_the_catalogue_is_published_with_parquet_and_json_exports(full: SyncRun, pipeline: Pipeline) -> None:
    assert pipeline.catalogue.is_file()
    exports = pipeline.catalogue.parent / "exports"
    assert sorted(p.name for p in exports.iterdir()) == sorted(
        [*(f"{t}.parquet" for t in EXPORTED_TABLES), *(f"{name}.json" for name in DOCUMENTS)]
    )
    assert len(json.loads((exports / "models.json").read_text())) == len(full.truth)
    con = duckdb.connect(":memory:")
    try:
        [(repos,)] = con.execute(
            f"SELECT count(*) FROM read_parquet('{exports / 'models.parquet'}')"
        ).fetchall()
    finally:
        con.close()
    assert repos == len(full.truth)
    assert full.result.asset_materializations_for_node("gguf_catalogue")[0].metadata[
        "published"
    ].value == str(pipeline.catalogue)


def test_the_listing_reports_repos_listed_and_new_requests_and_duration(full: SyncRun) -> None:
    listing = full.figures("listing")
    listing_requests = [r for r in full.requests if r.path == LISTING_PATH]
    assert (listing["listed"], listing["new"], listing["changed"], listing["rejected"]) == (
        len(full.truth),
        len(full.truth),
        0,
        0,
    )
    assert listing["complete_pass"] is True
    assert listing["api_requests"] == len(listing_requests) > 0
    assert listing["duration_seconds"] >= 0


def test_the_files_step_reports_one_tree_request_per_repo_and_its_header_reads(full: SyncRun) -> None:
    files = full.figures("files")
    assert files["refreshed"] == len(full.truth)
    # Its requests: one tree each, and header reads (a resolve on the Hub and a download from the CDN each)
    assert files["api_requests"] == sum(1 for r in full.requests if r.path != LISTING_PATH)
    assert files["header_requests"] == sum(1 for r in full.requests if "/resolve/" in r.path)
    assert files["header_bytes"] == full.rows("SELECT sum(bytes_read) FROM gguf_headers")[0][0]
    assert full.tree_requests == set(full.truth)
    assert files["duration_seconds"] >= 0


def test_partition_materializations_carry_no_figures_of_the_whole_range(full: SyncRun) -> None:
    for asset in ("gguf_model_listing", "gguf_model_files", "gguf_model_completeness"):
        materializations = full.result.asset_materializations_for_node(asset)
        assert len(materializations) > 1
        assert all(not m.metadata for m in materializations)


def test_the_catalogue_asset_reports_what_the_run_did(full: SyncRun) -> None:
    figures = full.metadata("gguf_catalogue")
    assert (figures["mode"], figures["complete_pass"]) == ("full", True)
    assert (figures["repos_listed"], figures["repos_new"], figures["repos_refreshed"]) == (
        len(full.truth),
    ) * 3
    assert figures["api_requests"] == len(full.requests)
