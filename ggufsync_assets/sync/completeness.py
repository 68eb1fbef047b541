"""How complete a repo's catalogue entry is, from 0 to 1: the share of what a user needs that we know.

Weights (they sum to 1): every .gguf file has a size 0.20, every model file has a known
quantization 0.20, architecture 0.15, parameter count 0.10, context length 0.10, license 0.10,
base model 0.10, pipeline tag 0.05. A repo with no .gguf file scores 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ggufsync_assets.sync.window import Window
from ggufsync_assets.sync.writer import SyncWriter

FILE_WEIGHTS: dict[str, float] = {"file_sizes": 0.20, "quantization": 0.20}
MODEL_WEIGHTS: dict[str, float] = {
    "architecture": 0.15,
    "parameter_count": 0.10,
    "context_length": 0.10,
    "license": 0.10,
    "base_models": 0.10,
    "pipeline_tag": 0.05,
}
"""Keyed by the models column whose presence earns the weight."""
WEIGHTS = FILE_WEIGHTS | MODEL_WEIGHTS


@dataclass(frozen=True)
class CompletenessResult:
    scored: int
    mean: float | None
    minimum: float | None
    below_threshold: int


def scores(facts: pl.DataFrame) -> pl.DataFrame:
    """repo_id and completeness_score from the facts the catalogue gathers (one row per repo)."""
    score = sum(pl.col(name).cast(pl.Float64) * weight for name, weight in WEIGHTS.items())
    return facts.select(
        "repo_id",
        pl.when(pl.col("files") > 0).then(score).otherwise(0.0).round(4).alias("completeness_score"),
    )


def score_completeness(writer: SyncWriter, window: Window, threshold: float) -> CompletenessResult:
    """Score every present repo in the window and store the scores."""
    scored = scores(writer.completeness_facts(window.start, window.end, tuple(MODEL_WEIGHTS)))
    writer.set_completeness(scored)
    values = scored.get_column("completeness_score").to_list()
    return CompletenessResult(
        scored=len(values),
        mean=sum(values) / len(values) if values else None,
        minimum=min(values) if values else None,
        below_threshold=sum(v < threshold for v in values),
    )
