"""The four assets of a sync. Data lives in the DuckDB catalogue; assets report what they did.

gguf_model_listing -> gguf_model_files -> gguf_model_completeness share the daily partitions
(identity-mapped) and run a whole partition range as one run; gguf_catalogue finishes the sync:
it tombstones repos a complete pass no longer found and publishes the snapshot readers open.
Each asset is a thin shell around one step in sync/: defs/steps.py holds what they share. Each
step ends by evaluating its asset's checks (defs/checks.py).
"""

import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import dagster as dg

from ggufsync_assets.defs.checks import Check, build_checks, evaluate
from ggufsync_assets.defs.partitions import DAILY, is_complete, window_of
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.steps import (
    back_up_before_full_publish,
    holding,
    hub_writing,
    mode_of,
    now,
    performance,
    writing,
)
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.completeness import score_completeness
from ggufsync_assets.sync.listing import list_window
from ggufsync_assets.sync.ownership import hub_identity
from ggufsync_assets.sync.refresh import refresh_files

GROUP = "gguf"
# The assets return a bare `dg.MaterializeResult` (mypy: type-arg): Dagster tells a step that reports
# its checks in its MaterializeResult by that exact return annotation.


def _range(context: dg.AssetExecutionContext) -> tuple[str, str]:
    keys = context.partition_keys
    return keys[0], keys[-1]


def _range_done(
    context: dg.AssetExecutionContext,
    step: str,
    figures: dict[str, Any],
    checked: Sequence[dg.AssetCheckResult],
) -> dg.MaterializeResult[None]:
    """A partitioned step's figures are the whole range's: they go to the run's log, and the run's
    totals to gguf_catalogue. Its per-partition materializations carry none, so that no partition
    shows figures that are not its own (and a full sync records 3,658 of them)."""
    first, last = _range(context)
    shown = {name: round(value, 4) if isinstance(value, float) else value for name, value in figures.items()}
    context.log.info(f"{step} {first}..{last}: {json.dumps(shown, default=str)}")
    return dg.MaterializeResult(check_results=checked)


RUN_FIGURES = (
    "mode",
    "partition_start",
    "partition_end",
    "complete_pass",
    "repos_listed",
    "repos_new",
    "repos_changed",
    "repos_refreshed",
    "rejects",
    "api_requests",
)


def _run_figures(run: dict[str, Any]) -> dict[str, Any]:
    """What this run did, from its sync_runs row."""
    return {key: run[key] for key in RUN_FIGURES if run.get(key) is not None}


def _partition_freshness(settings: Settings) -> dg.FreshnessPolicy:
    """With a freshness schedule every N minutes, the partitioned assets warn after N minutes without
    a sync and fail after 2N; without one, they fail after the incremental window."""
    minutes = settings.sync_behavior.freshness_sync_minutes
    if minutes:
        return dg.FreshnessPolicy.time_window(
            warn_window=timedelta(minutes=minutes), fail_window=timedelta(minutes=2 * minutes)
        )
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=settings.sync_behavior.incremental_window_hours)
    )


def build_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    # backfill_policy is marked beta in Dagster 1.13; single-run backfills are what a range needs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _define_assets(settings)


def _define_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    retry = dg.RetryPolicy(
        max_retries=settings.error_handling.max_recovery_attempts,
        delay=30,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )
    checks = build_checks(settings)
    window_freshness = _partition_freshness(settings)
    full_freshness = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=settings.sync_behavior.full_sync_threshold_hours)
    )

    def partitioned(
        kinds: set[str], checked: list[Check], deps: list[dg.AssetsDefinition] | None = None
    ) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
        return dg.asset(
            kinds=kinds,
            deps=deps,
            check_specs=[check.spec for check in checked],
            partitions_def=DAILY,
            backfill_policy=dg.BackfillPolicy.single_run(),
            group_name=GROUP,
            retry_policy=retry,
            freshness_policy=window_freshness,
        )

    @partitioned({"huggingface", "duckdb"}, checks["gguf_model_listing"])
    async def gguf_model_listing(
        context: dg.AssetExecutionContext, sync: SyncResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        """Discover every GGUF repo modified in the partition range and upsert its listing row.

        A partition is a day of last modification on the Hub; a run covers a range of them. Writes
        `models`: one row per repo (id, author, sha, downloads, likes, tags, how it was found). The
        run's log gives the range's figures: `listed` repos seen, `new` to the catalogue, `changed`
        (a new commit sha), `unchanged`, `rejected` (records the Hub sent malformed; kept in
        `rejected_records`), `api_requests`.
        """
        started, first, last, run_id = time.monotonic(), *_range(context), context.run.run_id
        async with hub_writing(context, sync, "listing") as (client, writer):
            writer.ensure_run(
                run_id,
                mode=mode_of(context),
                started_at=now(),
                partition_start=first,
                partition_end=last,
                complete_pass=is_complete(first, last),
                hub=hub_identity(sync.settings.hub.endpoint),
            )
            result = await list_window(
                client, writer, sync.settings, window_of(first, last), run_id=run_id, now=now()
            )
            writer.finish_run(
                run_id,
                status="running",
                api_requests=client.stats.requests,
                repos_listed=result.listed,
                repos_new=result.new,
                repos_changed=result.changed,
                rejects=result.rejected,
            )
        return _range_done(
            context,
            "listing",
            {
                **asdict(result),
                "complete_pass": is_complete(first, last),
                **performance(sync.settings, started, client.stats),
            },
            evaluate(context, sync, checks["gguf_model_listing"]),
        )

    @partitioned({"huggingface", "duckdb"}, checks["gguf_model_files"], deps=[gguf_model_listing])
    async def gguf_model_files(context: dg.AssetExecutionContext, sync: SyncResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
        """Fetch the file tree of new and changed repos only: quantizations, split parts, sizes.

        Writes `model_files` (one row per GGUF file: size, quantization, split part) and
        `gguf_headers` (what each file's header says: architecture, parameters, context length).
        Unchanged repos cost no request.
        The run's log gives `refreshed` repos, `files`, `headers_read` (and the range requests they
        took), `headers_unreadable`, `rejected` trees, `gone` (repos deleted since listed).
        """
        started, first, last, run_id = time.monotonic(), *_range(context), context.run.run_id
        async with hub_writing(context, sync, "files") as (client, writer):
            result = await refresh_files(
                client, writer, sync.settings, window_of(first, last), run_id=run_id, now=now()
            )
            writer.add_run_counts(
                run_id,
                api_requests=client.stats.requests,
                repos_refreshed=result.refreshed,
                header_reads=result.header_requests,
                rejects=result.rejected,
            )
        return _range_done(
            context,
            "files",
            {**asdict(result), **performance(sync.settings, started, client.stats)},
            evaluate(context, sync, checks["gguf_model_files"]),
        )

    @partitioned({"duckdb"}, checks["gguf_model_completeness"], deps=[gguf_model_files])
    def gguf_model_completeness(
        context: dg.AssetExecutionContext, sync: SyncResource
    ) -> dg.MaterializeResult:  # type: ignore[type-arg]
        """Score each repo: completeness (what of the Hub's offer the catalogue holds; the completeness
        check gates on it) and card score (what the uploader tells).

        Writes `models.completeness_score` and `models.card_score`, each from 0 to 1. Makes no Hub
        request. The run's log gives `repos_scored`, the mean and lowest completeness, how many
        repos are below validation.min_completeness_score, and the mean card score.
        """
        started, (first, last) = time.monotonic(), _range(context)
        minimum = sync.settings.validation.min_completeness_score
        with writing(context, sync, "completeness") as writer:
            result = score_completeness(writer, window_of(first, last), minimum)
        return _range_done(
            context,
            "completeness",
            {
                "repos_scored": result.scored,
                "mean_completeness": result.mean,
                "min_completeness": result.minimum,
                "below_min_completeness_score": result.below_threshold,
                "mean_card_score": result.mean_card_score,
                **performance(sync.settings, started),
            },
            evaluate(context, sync, checks["gguf_model_completeness"]),
        )

    @dg.asset(
        deps=[gguf_model_completeness],
        check_specs=[check.spec for check in checks["gguf_catalogue"]],
        kinds={"duckdb", "parquet"},
        group_name=GROUP,
        retry_policy=retry,
        freshness_policy=full_freshness,
    )
    def gguf_catalogue(context: dg.AssetExecutionContext, sync: SyncResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
        """Finish the sync: tombstone what a complete pass no longer found, publish the snapshot.

        Publishes the DuckDB catalogue readers open (storage.catalogue_path) and writes the Parquet
        and JSON exports beside it. Its materialization gives the catalogue's totals after the run
        (repos, files, bytes) and what the run did (new, changed, refreshed, removed repos, Hub
        requests); the run's history is the `sync_runs` table.
        """
        started, run_id = time.monotonic(), context.run.run_id
        with holding(context, sync, "catalogue") as store:
            with store.writer() as writer:
                run = writer.run(run_id) or {}
                removed = 0
                if run.get("complete_pass"):
                    removed = writer.mark_removed(seen_since=run["started_at"], run_id=run_id, now=now())
                writer.finish_run(run_id, status="succeeded", finished_at=now(), repos_removed=removed)
                totals = writer.totals()
            back_up_before_full_publish(context, sync, store)
            store.publish()
            exports = store.export(compress=sync.settings.performance.enable_data_compression)
            store.release(run_id)
        return dg.MaterializeResult(
            metadata={
                **totals,
                **_run_figures(run),
                "repos_removed": removed,
                "published": dg.MetadataValue.path(str(store.published)),
                "exports": dg.MetadataValue.json([str(p) for p in exports]),
                **performance(sync.settings, started),
            },
            check_results=evaluate(context, sync, checks["gguf_catalogue"]),
        )

    return [gguf_model_listing, gguf_model_files, gguf_model_completeness, gguf_catalogue]
