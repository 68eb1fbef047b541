"""Two scores per repo, each from 0 to 1.

`completeness_score` measures the catalogue against the Hub: of what the Hub offers for a repo,
the share the catalogue holds. Only what the sync lost lowers it, never what the uploader left out:

    tree     0.5  the file tree at the listed sha (none fetched: 0; an older sha's: stale)
    sizes    0.3  a size for every file of that tree, in proportion (no tree: no sizes)
    headers  0.1  every GGUF header the sync read was readable
    record   0.1  the listing record arrived whole, without a fix

A repo whose current tree has no .gguf files owes no sizes. `completeness_gaps` names what was lost.

`card_score` measures what the uploader tells: license 0.3, base model 0.25, pipeline tag 0.15,
a model card 0.3. It ranks and filters; no check gates on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ggufsync_assets.catalogue.contract import SCORE_FRAME
from ggufsync_assets.sync.window import Window
from ggufsync_assets.sync.writer import SyncWriter

COMPLETENESS_WEIGHTS: dict[str, float] = {"tree": 0.5, "sizes": 0.3, "headers": 0.1, "record": 0.1}
CARD_WEIGHTS: dict[str, float] = {"license": 0.3, "base_models": 0.25, "pipeline_tag": 0.15, "has_card": 0.3}
"""Keyed by the models column whose presence earns the weight."""

# What can lower a completeness score, as completeness_gaps names it.
NO_TREE = "no file tree"
STALE_TREE = "file tree of an older commit"
UNSIZED = "files without a size"
UNREADABLE_HEADER = "unreadable GGUF header"
FIXED_RECORD = "listing record needed a fix"


@dataclass(frozen=True)
class CompletenessResult:
    scored: int
    mean: float | None
    minimum: float | None
    below_threshold: int
    mean_card_score: float | None


def scores(facts: pl.DataFrame) -> pl.DataFrame:
    """The SCORE columns of each repo, from the facts the catalogue gathers (writer.completeness_facts):
    `tree` (current, stale or missing), `files`, `sized`, `unreadable_headers`, `fixes` and, for the
    card, whether each CARD_WEIGHTS column holds a value."""
    fetched = pl.col("tree") != "missing"
    current = pl.col("tree") == "current"
    sized_share = (
        pl.when(~fetched)
        .then(0.0)
        .when(pl.col("files") == 0)
        .then(1.0)
        .otherwise(pl.col("sized") / pl.col("files"))
    )
    headers_ok = pl.col("unreadable_headers") == 0
    record_whole = pl.col("fixes") == 0
    w = COMPLETENESS_WEIGHTS
    completeness = (
        current.cast(pl.Float64) * w["tree"]
        + sized_share * w["sizes"]
        + headers_ok.cast(pl.Float64) * w["headers"]
        + record_whole.cast(pl.Float64) * w["record"]
    )
    gaps = pl.concat_list(
        pl.when(~fetched).then(pl.lit(NO_TREE)),
        pl.when(fetched & ~current).then(pl.lit(STALE_TREE)),
        pl.when(fetched & (sized_share < 1)).then(pl.lit(UNSIZED)),
        pl.when(~headers_ok).then(pl.lit(UNREADABLE_HEADER)),
        pl.when(~record_whole).then(pl.lit(FIXED_RECORD)),
    ).list.drop_nulls()
    card = pl.sum_horizontal(pl.col(name).cast(pl.Float64) * weight for name, weight in CARD_WEIGHTS.items())
    return facts.select(
        "repo_id",
        completeness.round(4).alias("completeness_score"),
        gaps.alias("completeness_gaps"),
        card.round(4).alias("card_score"),
    ).cast(SCORE_FRAME)  # type: ignore[arg-type]


def score_completeness(writer: SyncWriter, window: Window, threshold: float) -> CompletenessResult:
    """Score every present repo in the window and store the scores."""
    scored = scores(writer.completeness_facts(window.start, window.end, tuple(CARD_WEIGHTS)))
    writer.set_completeness(scored)
    values = scored.get_column("completeness_score")
    return CompletenessResult(
        scored=len(values),
        mean=values.mean() if len(values) else None,  # type: ignore[arg-type]
        minimum=values.min() if len(values) else None,  # type: ignore[arg-type]
        below_threshold=int((values < threshold).sum()),
        mean_card_score=scored.get_column("card_score").mean() if len(values) else None,  # type: ignore[arg-type]
    )
