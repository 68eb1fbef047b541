"""How complete a repo's catalogue entry is, from 0 to 1: the share of what a user needs that we know.

Weights (they sum to 1): every .gguf file has a size 0.20, every model file has a known
quantization 0.20, architecture 0.15, parameter count 0.10, context length 0.10, license 0.10,
base model 0.10, pipeline tag 0.05. A repo with no .gguf file scores 0.
"""

from __future__ import annotations

import polars as pl

WEIGHTS: dict[str, float] = {
    "file_sizes": 0.20,
    "quantization": 0.20,
    "architecture": 0.15,
    "parameter_count": 0.10,
    "context_length": 0.10,
    "license": 0.10,
    "base_models": 0.10,
    "pipeline_tag": 0.05,
}


def scores(facts: pl.DataFrame) -> pl.DataFrame:
    """repo_id and completeness_score from the facts the catalogue gathers (catalogue/schema.py)."""
    score = sum(pl.col(name).cast(pl.Float64) * weight for name, weight in WEIGHTS.items())
    return facts.select(
        "repo_id",
        pl.when(pl.col("files") > 0).then(score).otherwise(0.0).round(4).alias("completeness_score"),
    )
