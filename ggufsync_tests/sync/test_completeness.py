"""Completeness measures what the catalogue holds of what the Hub offers; the card score, what the
uploader tells. Only the sync's own losses lower completeness."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter
from ggufsync_assets.sync.completeness import (
    CARD_WEIGHTS,
    COMPLETENESS_WEIGHTS,
    FIXED_RECORD,
    NO_TREE,
    STALE_TREE,
    UNREADABLE_HEADER,
    UNSIZED,
    scores,
)
from ggufsync_tests.catalogue.conftest import SHA_B, gguf, model, models, put_files

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def test_each_scores_weights_sum_to_one() -> None:
    assert sum(COMPLETENESS_WEIGHTS.values()) == pytest.approx(1.0)
    assert sum(CARD_WEIGHTS.values()) == pytest.approx(1.0)


def scored(tmp_path: Path, *repos: tuple[dict[str, Any], list[dict[str, Any]] | None]) -> dict[str, Any]:
    """Catalogue each (listing row, files or None for no tree), then score: repo id -> its scores."""
    with CatalogueStore(tmp_path / "catalogue.duckdb").writer() as writer:
        writer.upsert_models(models(*(row for row, _ in repos)), run_id="r1", now=NOW)
        for row, file_rows in repos:
            if file_rows is not None:
                put_files(writer, row["repo_id"], *file_rows)
        return _scores(writer)


def _scores(writer: CatalogueWriter) -> dict[str, Any]:
    frame = scores(writer.completeness_facts(None, None, tuple(CARD_WEIGHTS)))
    return {row["repo_id"]: row for row in frame.iter_rows(named=True)}


def one(tmp_path: Path, file_rows: list[dict[str, Any]] | None = None, **listing: Any) -> dict[str, Any]:
    default = [gguf("a/repo", "m-Q4_K_M.gguf", 10, "Q4_K_M")]
    return scored(tmp_path, (model("a/repo", **listing), default if file_rows is None else file_rows))[
        "a/repo"
    ]


# ----- completeness: only our losses count ------------------------------------------------------


def test_a_repo_held_whole_scores_one_with_no_gaps(tmp_path: Path) -> None:
    found = one(tmp_path)
    assert (found["completeness_score"], found["completeness_gaps"]) == (1.0, [])


def test_what_the_uploader_left_out_is_not_a_completeness_gap(tmp_path: Path) -> None:
    found = one(
        tmp_path,
        [gguf("a/repo", "model.gguf", 10, None)],  # a name that carries no quantization label
        license=None,
        base_models=[],
        pipeline_tag=None,
        has_card=False,
        architecture=None,
        parameter_count=None,
        context_length=None,
    )
    assert (found["completeness_score"], found["completeness_gaps"]) == (1.0, [])


def test_a_tree_never_fetched_loses_the_tree_and_every_size(tmp_path: Path) -> None:
    found = scored(tmp_path, (model("a/repo"), None))["a/repo"]
    weights = COMPLETENESS_WEIGHTS
    assert found["completeness_score"] == pytest.approx(1 - weights["tree"] - weights["sizes"])
    assert found["completeness_gaps"] == [NO_TREE]


def test_a_tree_of_an_older_sha_loses_the_tree(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path / "catalogue.duckdb").writer() as writer:
        writer.upsert_models(models(model("a/repo")), run_id="r1", now=NOW)
        put_files(writer, "a/repo", gguf("a/repo", "m-Q4_K_M.gguf", 10, "Q4_K_M"))
        writer.upsert_models(models(model("a/repo", sha=SHA_B)), run_id="r2", now=NOW)  # tree not refetched
        found = _scores(writer)["a/repo"]
    assert found["completeness_score"] == pytest.approx(1 - COMPLETENESS_WEIGHTS["tree"])
    assert found["completeness_gaps"] == [STALE_TREE]


def test_files_without_a_size_lose_their_share_of_the_sizes(tmp_path: Path) -> None:
    found = one(
        tmp_path,
        [
            gguf("a/repo", f"m-{q}.gguf", None if q == "Q8_0" else 10, q)
            for q in ("Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0")
        ],
    )
    assert found["completeness_score"] == pytest.approx(1 - COMPLETENESS_WEIGHTS["sizes"] / 4)
    assert found["completeness_gaps"] == [UNSIZED]


def test_an_unreadable_header_loses_the_headers_weight(tmp_path: Path) -> None:
    found = one(tmp_path, [gguf("a/repo", "m-Q4_K_M.gguf", 10, "Q4_K_M", header_ok=False)])
    assert found["completeness_score"] == pytest.approx(1 - COMPLETENESS_WEIGHTS["headers"])
    assert found["completeness_gaps"] == [UNREADABLE_HEADER]


def test_a_listing_record_that_needed_a_fix_loses_the_records_weight(tmp_path: Path) -> None:
    found = one(tmp_path, listing_fixes=["downloads: numeric string made a number"])
    assert found["completeness_score"] == pytest.approx(1 - COMPLETENESS_WEIGHTS["record"])
    assert found["completeness_gaps"] == [FIXED_RECORD]


def test_a_current_tree_without_gguf_files_owes_no_sizes(tmp_path: Path) -> None:
    assert one(tmp_path, [])["completeness_score"] == 1.0


def test_losses_add_up(tmp_path: Path) -> None:
    found = one(
        tmp_path,
        [gguf("a/repo", "m-Q4_K_M.gguf", None, "Q4_K_M", header_ok=False)],
        listing_fixes=["sha: lower-cased"],
    )
    assert found["completeness_score"] == pytest.approx(COMPLETENESS_WEIGHTS["tree"])
    assert found["completeness_gaps"] == [UNSIZED, UNREADABLE_HEADER, FIXED_RECORD]


# ----- card score: what the uploader tells --------------------------------------------------------


def test_a_card_telling_everything_scores_one(tmp_path: Path) -> None:
    assert one(tmp_path)["card_score"] == 1.0


@pytest.mark.parametrize(
    ("column", "untold"),
    [("license", None), ("base_models", []), ("pipeline_tag", None), ("has_card", False)],
)
def test_each_thing_the_uploader_leaves_out_costs_its_card_weight(
    tmp_path: Path, column: str, untold: Any
) -> None:
    assert one(tmp_path, **{column: untold})["card_score"] == pytest.approx(1 - CARD_WEIGHTS[column])


def test_the_card_score_does_not_move_with_our_losses(tmp_path: Path) -> None:
    found = scored(tmp_path, (model("a/repo"), None))["a/repo"]
    assert found["card_score"] == 1.0


def test_every_repo_gets_its_own_scores() -> None:
    facts = pl.DataFrame(
        [
            {
                "repo_id": "a/whole",
                "tree": "current",
                "files": 2,
                "sized": 2,
                "unreadable_headers": 0,
                "fixes": 0,
            },
            {
                "repo_id": "a/lost",
                "tree": "missing",
                "files": 0,
                "sized": 0,
                "unreadable_headers": 0,
                "fixes": 0,
            },
        ]
    ).with_columns(*(pl.lit(True).alias(name) for name in CARD_WEIGHTS))
    found = {row[0]: row[1] for row in scores(facts).iter_rows()}
    assert found == {
        "a/whole": 1.0,
        "a/lost": round(1 - COMPLETENESS_WEIGHTS["tree"] - COMPLETENESS_WEIGHTS["sizes"], 4),
    }
