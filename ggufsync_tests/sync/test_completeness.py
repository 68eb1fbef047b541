"""How complete a repo's catalogue entry is: the weighted share of the facts a user needs that we know."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.sync.completeness import MODEL_WEIGHTS, WEIGHTS, scores
from ggufsync_tests.catalogue.conftest import gguf, model, models, put_files


def facts(**overrides: Any) -> dict[str, Any]:
    """Facts of a repo that has .gguf files and every fact known."""
    return {"repo_id": "a/repo", "files": 3, **dict.fromkeys(WEIGHTS, True), **overrides}


def score_of(**overrides: Any) -> float:
    return scores(pl.DataFrame([facts(**overrides)])).get_column("completeness_score").item()


def test_the_weights_sum_to_one() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_a_repo_with_every_fact_scores_one() -> None:
    assert score_of() == 1.0


def test_a_repo_without_gguf_files_scores_zero_whatever_else_is_known() -> None:
    assert score_of(files=0) == 0.0


def test_a_repo_without_any_fact_scores_zero() -> None:
    assert score_of(**dict.fromkeys(WEIGHTS, False)) == 0.0


@pytest.mark.parametrize("missing", list(WEIGHTS))
def test_each_missing_fact_costs_exactly_its_weight(missing: str) -> None:
    assert score_of(**{missing: False}) == round(1.0 - WEIGHTS[missing], 4)


def test_missing_facts_add_up() -> None:
    expected = round(1.0 - WEIGHTS["license"] - WEIGHTS["pipeline_tag"], 4)
    assert score_of(license=False, pipeline_tag=False) == expected


def test_every_repo_gets_its_own_score() -> None:
    frame = pl.DataFrame(
        [facts(repo_id="a/full"), facts(repo_id="a/empty", files=0), facts(repo_id="a/part", license=False)]
    )
    assert dict(scores(frame).iter_rows()) == {"a/full": 1.0, "a/empty": 0.0, "a/part": 0.9}


def test_the_catalogues_facts_score_what_it_knows(tmp_path: Path) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with CatalogueStore(tmp_path / "catalogue.duckdb").writer() as writer:
        writer.upsert_models(
            models(model("a/full"), model("a/bare", license=None, base_models=[]), model("a/no-files")),
            run_id="r1",
            now=now,
        )
        put_files(writer, "a/full", gguf("a/full", "m-Q4_K_M.gguf", 10, "Q4_K_M"))
        put_files(
            writer,
            "a/bare",
            gguf("a/bare", "m.gguf", 10, None),
            gguf("a/bare", "mmproj-F16.gguf", 0, "F16", is_mmproj=True),
        )
        found = dict(scores(writer.completeness_facts(None, None, tuple(MODEL_WEIGHTS))).iter_rows())
    unknown = WEIGHTS["license"] + WEIGHTS["base_models"] + WEIGHTS["quantization"] + WEIGHTS["file_sizes"]
    assert found == {"a/full": 1.0, "a/bare": round(1.0 - unknown, 4), "a/no-files": 0.0}
