"""The DuckDB catalogue: its schema and views, every write the sync makes, and published snapshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from ggufsync_assets.catalogue.contract import HEADER_FRAME, SCORE_FRAME
from ggufsync_assets.catalogue.schema import SCHEMA_VERSION
from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter, UpsertCounts
from ggufsync_assets.gguf.quality import quality_table
from ggufsync_tests.catalogue.conftest import (
    SHA_A,
    SHA_B,
    SYNC_1,
    SYNC_2,
    SYNC_3,
    files,
    gguf,
    model,
    models,
    put_files,
    rows,
    summaries,
    summary_of,
)

# ----- schema, views and macros ---------------------------------------------------------------


def test_the_first_writer_creates_every_table_view_and_macro(store: CatalogueStore) -> None:
    assert not store.working.exists()
    with store.writer() as writer:
        names = {name for (name,) in rows(writer, "SELECT table_name FROM duckdb_tables()")}
        views = {name for (name,) in rows(writer, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
        macros = {
            name
            for (name,) in rows(
                writer, "SELECT function_name FROM duckdb_functions() WHERE macro_definition NOTNULL"
            )
        }
    assert names >= {
        "schema_info",
        "models",
        "model_files",
        "model_history",
        "sync_runs",
        "rejected_records",
        "quantization_ranks",
    }
    assert views >= {"current_models", "logical_files", "quantization_summary", "architecture_summary"}
    assert macros >= {"best_file_under", "changes_since"}
    assert store.working.exists()


def test_schema_info_records_the_schema_version_once(store: CatalogueStore) -> None:
    for _ in range(3):
        with store.writer() as writer:
            recorded = rows(writer, "SELECT version FROM schema_info")
    assert recorded == [(SCHEMA_VERSION,)]


def test_quantization_ranks_hold_every_known_label_with_its_quality(writer: CatalogueWriter) -> None:
    ranks = dict(rows(writer, "SELECT quantization, quality FROM quantization_ranks"))
    assert ranks == pytest.approx(quality_table())
    assert ranks["Q8_0"] > ranks["Q6_K"] > ranks["Q4_K_M"] > ranks["Q2_K"]


def test_current_models_leaves_out_removed_repos(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/kept"), model("a/gone")), run_id="r1", now=SYNC_1)
    writer.upsert_models(models(model("a/kept", seen=SYNC_2)), run_id="r2", now=SYNC_2)
    writer.mark_removed(seen_since=SYNC_2, run_id="r2", now=SYNC_2)
    assert rows(writer, "SELECT repo_id FROM current_models") == [("a/kept",)]


@pytest.fixture
def two_repos(writer: CatalogueWriter) -> CatalogueWriter:
    """a/big: a two-part Q8_0 (2 x 10), Q6_K (15), Q4_K_M (12) and a projector (5);
    a/small: Q4_K_M (4) and a file whose name says no quantization (3)."""
    writer.upsert_models(
        models(model("a/big"), model("a/small", architecture="llama", parameter_count=1_000, downloads=5)),
        run_id="r1",
        now=SYNC_1,
    )
    put_files(
        writer,
        "a/big",
        gguf(
            "a/big",
            "Q8_0/m-Q8_0-00001-of-00002.gguf",
            10,
            "Q8_0",
            logical_file="Q8_0/m-Q8_0.gguf",
            split=(1, 2),
        ),
        gguf(
            "a/big",
            "Q8_0/m-Q8_0-00002-of-00002.gguf",
            10,
            "Q8_0",
            logical_file="Q8_0/m-Q8_0.gguf",
            split=(2, 2),
        ),
        gguf("a/big", "m-Q6_K.gguf", 15, "Q6_K"),
        gguf("a/big", "m-Q4_K_M.gguf", 12, "Q4_K_M"),
        gguf("a/big", "mmproj-F16.gguf", 5, "F16", is_mmproj=True),
    )
    put_files(
        writer,
        "a/small",
        gguf("a/small", "s-Q4_K_M.gguf", 4, "Q4_K_M"),
        gguf("a/small", "s.gguf", 3, None),
    )
    return writer


def test_logical_files_add_up_the_parts_of_a_split_file(two_repos: CatalogueWriter) -> None:
    found = rows(
        two_repos,
        "SELECT logical_file, quantization, parts, split_count, total_bytes, is_mmproj FROM logical_files "
        "WHERE repo_id = 'a/big' ORDER BY logical_file",
    )
    assert found == [
        ("Q8_0/m-Q8_0.gguf", "Q8_0", 2, 2, 20, False),
        ("m-Q4_K_M.gguf", "Q4_K_M", 1, None, 12, False),
        ("m-Q6_K.gguf", "Q6_K", 1, None, 15, False),
        ("mmproj-F16.gguf", "F16", 1, None, 5, True),
    ]


def test_quantization_summary_counts_model_files_per_quantization(two_repos: CatalogueWriter) -> None:
    found = rows(two_repos, "SELECT quantization, repos, files, total_bytes FROM quantization_summary")
    # Projectors and files of unknown quantization are not model quantizations.
    assert found == [("Q4_K_M", 2, 2, 16), ("Q6_K", 1, 1, 15), ("Q8_0", 1, 1, 20)]


def test_architecture_summary_groups_present_repos_by_architecture(two_repos: CatalogueWriter) -> None:
    two_repos.upsert_models(models(model("a/unknown", architecture=None)), run_id="r1", now=SYNC_1)
    found = rows(
        two_repos, "SELECT architecture, repos, downloads FROM architecture_summary ORDER BY architecture"
    )
    assert found == [("(unknown)", 1, 10), ("llama", 1, 5), ("qwen2", 1, 10)]


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (100, [("a/big", "Q8_0/m-Q8_0.gguf", 20), ("a/small", "s-Q4_K_M.gguf", 4)]),
        (20, [("a/big", "Q8_0/m-Q8_0.gguf", 20), ("a/small", "s-Q4_K_M.gguf", 4)]),
        # Each Q8_0 part fits in 19 bytes, the whole file does not.
        (19, [("a/big", "m-Q6_K.gguf", 15), ("a/small", "s-Q4_K_M.gguf", 4)]),
        (14, [("a/big", "m-Q4_K_M.gguf", 12), ("a/small", "s-Q4_K_M.gguf", 4)]),
        # The projector (5) fits but is no model file; the unranked file (3) has no quality.
        (11, [("a/small", "s-Q4_K_M.gguf", 4)]),
        (3, []),
    ],
)
def test_best_file_under_picks_the_best_quantization_whose_whole_file_fits(
    two_repos: CatalogueWriter, budget: int, expected: list[tuple[str, str, int]]
) -> None:
    found = rows(two_repos, "SELECT repo_id, logical_file, total_bytes FROM best_file_under(?)", budget)
    assert found == expected


def test_best_file_under_gives_the_bits_per_weight_it_ranked_by(two_repos: CatalogueWriter) -> None:
    found = rows(two_repos, "SELECT quantization, bits_per_weight FROM best_file_under(100) ORDER BY 1")
    ranks = dict(rows(two_repos, "SELECT quantization, quality FROM quantization_ranks"))
    assert found == [(quantization, ranks[quantization]) for quantization, _ in found]
    assert all(bits is not None for _, bits in found)


def test_best_file_under_ignores_removed_repos(two_repos: CatalogueWriter) -> None:
    two_repos.upsert_models(models(model("a/small", seen=SYNC_2)), run_id="r2", now=SYNC_2)
    two_repos.mark_removed(seen_since=SYNC_2, run_id="r2", now=SYNC_2)
    assert rows(two_repos, "SELECT repo_id FROM best_file_under(100)") == [("a/small",)]


def test_changes_since_lists_the_history_from_a_moment_on(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one"), model("a/two")), run_id="r1", now=SYNC_1)
    writer.upsert_models(models(model("a/one", sha=SHA_B, seen=SYNC_2)), run_id="r2", now=SYNC_2)
    found = rows(writer, "SELECT repo_id, change, old_sha, new_sha, run_id FROM changes_since(?)", SYNC_2)
    assert found == [("a/one", "changed", SHA_A, SHA_B, "r2")]
    assert len(rows(writer, "SELECT * FROM changes_since(?)", SYNC_1)) == 3
    assert rows(writer, "SELECT * FROM changes_since('2025-06-01 12:00:00+00')")[0][1] == "a/one"


def test_changes_since_tells_a_repo_new_on_the_hub_from_one_new_to_the_catalogue(
    writer: CatalogueWriter,
) -> None:
    old, fresh = model("a/old"), model("a/fresh", created_at=SYNC_1 - timedelta(hours=1))
    writer.upsert_models(models(old, fresh), run_id="r1", now=SYNC_1)
    found = rows(
        writer, "SELECT repo_id, change, new_on_hub FROM changes_since(?)", SYNC_1 - timedelta(days=1)
    )
    assert found == [("a/fresh", "added", True), ("a/old", "added", False)]


# ----- upserting listing rows -----------------------------------------------------------------


def history(writer: CatalogueWriter) -> list[tuple[object, ...]]:
    return rows(
        writer,
        "SELECT repo_id, change, old_sha, new_sha, run_id FROM model_history ORDER BY changed_at, repo_id",
    )


def test_upsert_inserts_new_repos_each_with_an_added_history_row(writer: CatalogueWriter) -> None:
    counts = writer.upsert_models(models(model("a/one"), model("b/two")), run_id="r1", now=SYNC_1)
    assert counts == UpsertCounts(added=2)
    assert rows(writer, "SELECT repo_id, first_seen_at, removed_at FROM models ORDER BY repo_id") == [
        ("a/one", SYNC_1, None),
        ("b/two", SYNC_1, None),
    ]
    assert history(writer) == [("a/one", "added", None, SHA_A, "r1"), ("b/two", "added", None, SHA_A, "r1")]


def test_repeating_an_identical_upsert_changes_nothing(writer: CatalogueWriter) -> None:
    frame = models(model("a/one"), model("b/two"), model("c/three"))
    writer.upsert_models(frame, run_id="r1", now=SYNC_1)
    before = rows(writer, "SELECT * FROM models ORDER BY repo_id")
    counts = writer.upsert_models(frame, run_id="r1", now=SYNC_1)
    assert counts == UpsertCounts(unchanged=3)
    assert rows(writer, "SELECT * FROM models ORDER BY repo_id") == before
    assert len(history(writer)) == 3


def test_a_new_sha_is_a_change_recorded_with_the_old_and_new_sha(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one"), model("b/two")), run_id="r1", now=SYNC_1)
    counts = writer.upsert_models(
        models(model("a/one", sha=SHA_B, seen=SYNC_2), model("b/two", seen=SYNC_2)), run_id="r2", now=SYNC_2
    )
    assert counts == UpsertCounts(changed=1, unchanged=1)
    assert history(writer)[-1] == ("a/one", "changed", SHA_A, SHA_B, "r2")
    assert rows(writer, "SELECT sha FROM models WHERE repo_id = 'a/one'") == [(SHA_B,)]


def test_an_update_keeps_first_seen_at_and_takes_the_new_values(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one")), run_id="r1", now=SYNC_1)
    writer.upsert_models(models(model("a/one", downloads=99, seen=SYNC_2)), run_id="r2", now=SYNC_2)
    assert rows(writer, "SELECT first_seen_at, last_seen_at, downloads FROM models") == [(SYNC_1, SYNC_2, 99)]


def test_a_removed_repo_seen_again_is_restored(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one")), run_id="r1", now=SYNC_1)
    writer.mark_removed(seen_since=SYNC_2, run_id="r2", now=SYNC_2)
    counts = writer.upsert_models(models(model("a/one", sha=SHA_B, seen=SYNC_3)), run_id="r3", now=SYNC_3)
    assert counts == UpsertCounts(restored=1)
    assert rows(writer, "SELECT removed_at, sha FROM models") == [(None, SHA_B)]
    assert history(writer)[-1] == ("a/one", "restored", SHA_A, SHA_B, "r3")


def methods_of(writer: CatalogueWriter, repo_id: str) -> list[str]:
    return rows(writer, "SELECT discovery_methods FROM models WHERE repo_id = ?", repo_id)[0][0]


def test_methods_found_by_several_strategies_in_one_sync_are_merged(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one", discovery_methods=["tag"])), run_id="r1", now=SYNC_1)
    writer.upsert_models(models(model("a/one", discovery_methods=["search"])), run_id="r1", now=SYNC_1)
    writer.upsert_models(models(model("a/one", discovery_methods=["author", "tag"])), run_id="r1", now=SYNC_1)
    assert methods_of(writer, "a/one") == ["author", "search", "tag"]


def test_a_later_sync_replaces_the_discovery_methods(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one", discovery_methods=["search", "tag"])), run_id="r1", now=SYNC_1)
    writer.upsert_models(
        models(model("a/one", discovery_methods=["author"], seen=SYNC_2)), run_id="r2", now=SYNC_2
    )
    assert methods_of(writer, "a/one") == ["author"]


def test_without_merging_the_latest_write_replaces_the_methods(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/one", discovery_methods=["tag"])), run_id="r1", now=SYNC_1)
    writer.upsert_models(
        models(model("a/one", discovery_methods=["search"])), run_id="r1", now=SYNC_1, merge_methods=False
    )
    assert methods_of(writer, "a/one") == ["search"]


def test_each_chunk_of_an_upsert_is_committed_on_its_own(writer: CatalogueWriter) -> None:
    # chunk_size 2: chunks [0, 1], [2, 3], [4]; the last row breaks models.last_seen_at NOT NULL.
    frame = models(*(model(f"a/r{i}") for i in range(4)), model("a/r4", last_seen_at=None))
    with pytest.raises(duckdb.ConstraintException):
        writer.upsert_models(frame, run_id="r1", now=SYNC_1)
    assert rows(writer, "SELECT repo_id FROM models ORDER BY repo_id") == [(f"a/r{i}",) for i in range(4)]
    assert [entry[0] for entry in history(writer)] == [f"a/r{i}" for i in range(4)]


def test_a_failing_chunk_leaves_no_trace(writer: CatalogueWriter) -> None:
    # The second chunk holds a valid row (a/r2) and a broken one (a/r3): neither lands, nor any history.
    frame = models(*(model(f"a/r{i}") for i in range(3)), model("a/r3", last_seen_at=None), model("a/r4"))
    with pytest.raises(duckdb.ConstraintException):
        writer.upsert_models(frame, run_id="r1", now=SYNC_1)
    assert rows(writer, "SELECT repo_id FROM models ORDER BY repo_id") == [("a/r0",), ("a/r1",)]
    assert [entry[0] for entry in history(writer)] == ["a/r0", "a/r1"]


# ----- file lists -------------------------------------------------------------------------------


def scores(*rows: tuple[str, float, list[str], float]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            dict(zip(("repo_id", "completeness_score", "completeness_gaps", "card_score"), r, strict=True))
            for r in rows
        ],
        schema=SCORE_FRAME,
    )


def test_a_rescore_stores_the_scores_that_changed_and_keeps_the_others(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/kept"), model("b/rescored")), run_id="r1", now=SYNC_1)
    writer.set_completeness(
        scores(("a/kept", 0.5, ["no license"], 0.4), ("b/rescored", 0.5, ["no license"], 0.4))
    )
    writer.set_completeness(scores(("a/kept", 0.5, ["no license"], 0.4), ("b/rescored", 1.0, [], 0.9)))
    assert rows(
        writer,
        "SELECT repo_id, completeness_score, completeness_gaps, card_score FROM models ORDER BY repo_id",
    ) == [("a/kept", 0.5, ["no license"], 0.4), ("b/rescored", 1.0, [], 0.9)]


def test_replace_files_swaps_a_repos_file_set(two_repos: CatalogueWriter) -> None:
    put_files(two_repos, "a/big", gguf("a/big", "m-Q5_K_M.gguf", 13, "Q5_K_M"), sha=SHA_B)
    assert rows(two_repos, "SELECT path FROM model_files WHERE repo_id = 'a/big'") == [("m-Q5_K_M.gguf",)]
    assert len(rows(two_repos, "SELECT path FROM model_files WHERE repo_id = 'a/small'")) == 2


def test_replace_files_updates_the_summary_columns(two_repos: CatalogueWriter) -> None:
    found = rows(
        two_repos,
        "SELECT files_sha, quantizations, gguf_file_count, total_gguf_bytes, has_mmproj FROM models "
        "WHERE repo_id = 'a/big'",
    )
    assert found == [(SHA_A, ["Q4_K_M", "Q6_K", "Q8_0"], 5, 52, True)]
    put_files(two_repos, "a/big", gguf("a/big", "m-Q5_K_M.gguf", 13, "Q5_K_M"), sha=SHA_B)
    found = rows(
        two_repos,
        "SELECT files_sha, quantizations, gguf_file_count, total_gguf_bytes, has_mmproj FROM models "
        "WHERE repo_id = 'a/big'",
    )
    assert found == [(SHA_B, ["Q5_K_M"], 1, 13, False)]


def test_a_failed_file_swap_keeps_the_old_files_and_summary(two_repos: CatalogueWriter) -> None:
    before = rows(two_repos, "SELECT * FROM model_files ORDER BY repo_id, path")
    broken = [gguf("a/big", "m-Q5_K_M.gguf", 13, "Q5_K_M", download_url=None)]  # NOT NULL column
    with pytest.raises(duckdb.ConstraintException):
        two_repos.replace_files(files(*broken), summaries(summary_of("a/big", broken, SHA_B)))
    assert rows(two_repos, "SELECT * FROM model_files ORDER BY repo_id, path") == before
    assert rows(two_repos, "SELECT files_sha FROM models WHERE repo_id = 'a/big'") == [(SHA_A,)]


def test_repos_needing_files_are_those_whose_files_are_not_at_their_sha(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/new"), model("a/fresh"), model("a/stale")), run_id="r1", now=SYNC_1)
    put_files(writer, "a/fresh", gguf("a/fresh", "f.gguf", 1, None))
    put_files(writer, "a/stale", gguf("a/stale", "f.gguf", 1, None))
    writer.upsert_models(models(model("a/stale", sha=SHA_B, seen=SYNC_2)), run_id="r2", now=SYNC_2)
    assert writer.repos_needing_files(None, None) == [("a/new", SHA_A), ("a/stale", SHA_B)]


def test_removed_repos_need_no_files(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/gone")), run_id="r1", now=SYNC_1)
    writer.mark_removed(seen_since=SYNC_2, run_id="r2", now=SYNC_2)
    assert writer.repos_needing_files(None, None) == []


def test_repos_needing_files_respect_the_window(writer: CatalogueWriter) -> None:
    day = SYNC_1.replace(hour=0)
    writer.upsert_models(
        models(*(model(f"a/day{i}", last_modified=day + timedelta(days=i)) for i in range(4))),
        run_id="r1",
        now=SYNC_1,
    )
    start, end = day + timedelta(days=1), day + timedelta(days=3)
    assert [r for r, _ in writer.repos_needing_files(start, end)] == ["a/day1", "a/day2"]
    assert [r for r, _ in writer.repos_needing_files(start, None)] == ["a/day1", "a/day2", "a/day3"]
    assert [r for r, _ in writer.repos_needing_files(None, end)] == ["a/day0", "a/day1", "a/day2"]


# ----- header facts ----------------------------------------------------------------------------


def header(repo_id: str, path: str, **facts: Any) -> dict[str, Any]:
    """A gguf_headers row as the files step writes it."""
    return {
        "repo_id": repo_id,
        "path": path,
        "bytes_read": 1024,
        "range_requests": 1,
        "read_at": SYNC_1,
        **facts,
    }


def put_files_and_headers(writer: CatalogueWriter, repo_id: str, *headers: dict[str, Any]) -> None:
    file_rows = [gguf(repo_id, "m-Q4_K_M.gguf", 10, "Q4_K_M")]
    writer.replace_files(
        files(*file_rows),
        summaries(summary_of(repo_id, file_rows)),
        pl.DataFrame(list(headers), schema=HEADER_FRAME),
    )


def test_header_facts_fill_gaps_and_never_overwrite_the_hub(writer: CatalogueWriter) -> None:
    writer.upsert_models(
        models(model("a/known"), model("a/blank", architecture=None, context_length=None)),
        run_id="r1",
        now=SYNC_1,
    )
    put_files_and_headers(
        writer, "a/known", header("a/known", "m-Q4_K_M.gguf", architecture="llama", context_length=1)
    )
    put_files_and_headers(
        writer, "a/blank", header("a/blank", "m-Q4_K_M.gguf", architecture="gemma3", context_length=131_072)
    )
    assert rows(writer, "SELECT repo_id, architecture, context_length FROM models ORDER BY repo_id") == [
        ("a/blank", "gemma3", 131_072),
        ("a/known", "qwen2", 32_768),
    ]


def test_an_unreadable_header_fills_nothing(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/blank", architecture=None)), run_id="r1", now=SYNC_1)
    put_files_and_headers(
        writer, "a/blank", header("a/blank", "m-Q4_K_M.gguf", architecture="x", error="bad magic")
    )
    assert rows(writer, "SELECT architecture FROM models") == [(None,)]


def test_a_refresh_replaces_the_repos_header_rows(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/repo")), run_id="r1", now=SYNC_1)
    put_files_and_headers(writer, "a/repo", header("a/repo", "old.gguf"), header("a/repo", "older.gguf"))
    put_files_and_headers(writer, "a/repo", header("a/repo", "m-Q4_K_M.gguf"))
    assert rows(writer, "SELECT path FROM gguf_headers") == [("m-Q4_K_M.gguf",)]


# ----- removals ---------------------------------------------------------------------------------


def test_repos_not_seen_since_a_moment_are_tombstoned_not_deleted(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/kept"), model("a/gone"), model("b/gone")), run_id="r1", now=SYNC_1)
    writer.upsert_models(models(model("a/kept", seen=SYNC_2)), run_id="r2", now=SYNC_2)
    removed = writer.mark_removed(seen_since=SYNC_2, run_id="r2", now=SYNC_3)
    assert removed == 2
    assert rows(writer, "SELECT repo_id, removed_at FROM models ORDER BY repo_id") == [
        ("a/gone", SYNC_3),
        ("a/kept", None),
        ("b/gone", SYNC_3),
    ]
    assert rows(writer, "SELECT repo_id, change, old_sha, new_sha, run_id FROM changes_since(?)", SYNC_3) == [
        ("a/gone", "removed", SHA_A, None, "r2"),
        ("b/gone", "removed", SHA_A, None, "r2"),
    ]


def test_a_tombstoned_repo_is_not_removed_twice(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("a/gone")), run_id="r1", now=SYNC_1)
    assert writer.mark_removed(seen_since=SYNC_2, run_id="r2", now=SYNC_2) == 1
    assert writer.mark_removed(seen_since=SYNC_3, run_id="r3", now=SYNC_3) == 0
    assert rows(writer, "SELECT removed_at FROM models") == [(SYNC_2,)]
    assert len(rows(writer, "SELECT * FROM model_history WHERE change = 'removed'")) == 1


# ----- publishing and reading -------------------------------------------------------------------


def write(store: CatalogueStore, *repo_ids: str) -> None:
    with store.writer() as writer:
        writer.upsert_models(models(*(model(r) for r in repo_ids)), run_id="r1", now=SYNC_1)


def repos_in(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r for (r,) in rows(con, "SELECT repo_id FROM models ORDER BY repo_id")]


def test_reading_a_catalogue_never_published_is_a_clear_error(store: CatalogueStore) -> None:
    write(store, "a/one")
    with pytest.raises(FileNotFoundError, match=r"no catalogue at .*catalogue\.duckdb"):
        store.reader()


def test_a_reader_sees_what_was_published(store: CatalogueStore) -> None:
    write(store, "a/one")
    store.publish()
    with store.reader() as reader:
        assert repos_in(reader) == ["a/one"]
        assert rows(reader, "SELECT count(*) FROM best_file_under(100)") == [(0,)]


def test_writes_after_a_publish_stay_unseen_until_the_next_publish(store: CatalogueStore) -> None:
    write(store, "a/one")
    store.publish()
    write(store, "a/two")
    with store.reader() as reader:
        assert repos_in(reader) == ["a/one"]
    store.publish()
    with store.reader() as reader:
        assert repos_in(reader) == ["a/one", "a/two"]


def test_an_open_reader_does_not_block_the_writer_and_keeps_its_snapshot(store: CatalogueStore) -> None:
    write(store, "a/one")
    store.publish()
    with store.reader() as reader:
        write(store, "a/two")
        store.publish()
        assert repos_in(reader) == ["a/one"]
    assert store.working != store.published


def test_a_reader_opened_after_a_publish_sees_it_while_an_older_reader_is_open(store: CatalogueStore) -> None:
    write(store, "a/one")
    store.publish()
    with store.reader() as old:
        write(store, "a/two")
        store.publish()
        with store.reader() as new:
            assert repos_in(new) == ["a/one", "a/two"]
        assert repos_in(old) == ["a/one"]


def test_a_reader_cannot_write(store: CatalogueStore) -> None:
    write(store, "a/one")
    store.publish()
    with store.reader() as reader, pytest.raises(duckdb.Error, match=r"read-only|read only"):
        reader.execute("DELETE FROM models")


def test_the_writer_carries_on_from_the_published_catalogue_when_its_working_file_is_gone(
    store: CatalogueStore,
) -> None:
    write(store, "a/one")
    store.publish()
    os.remove(store.working)
    write(store, "a/two")
    store.publish()
    with store.reader() as reader:
        assert repos_in(reader) == ["a/one", "a/two"]


def test_publishing_leaves_only_the_published_and_working_files(
    store: CatalogueStore, tmp_path: Path
) -> None:
    write(store, "a/one")
    store.publish()
    store.publish()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([store.published.name, store.working.name])


def test_the_published_catalogue_is_a_runs_own_once_that_run_published(store: CatalogueStore) -> None:
    write(store, "a/one")
    store.publish()
    with store.writer() as writer:
        writer.ensure_run("run-1", mode="full", started_at=SYNC_1)
    assert not store.published_by("run-1")
    store.publish()
    assert store.published_by("run-1")
    assert not store.published_by("run-2")


def test_a_published_catalogue_that_does_not_open_is_no_runs_own(store: CatalogueStore) -> None:
    with store.writer() as writer:
        writer.ensure_run("run-1", mode="full", started_at=SYNC_1)
    store.publish()
    store.published.write_bytes(b"not a DuckDB file")
    assert not store.published_by("run-1")
