"""The four assets of a sync. Data lives in the DuckDB catalogue; assets report what they did.

gguf_model_listing -> gguf_model_files -> gguf_model_completeness share the daily partitions
(identity-mapped) and run a whole partition range as one run; gguf_catalogue finishes the sync:
it tombstones repos a complete pass no longer found and publishes the snapshot readers open.
"""

import asyncio
import contextlib
import logging
import resource
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import dagster as dg

from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter
from ggufsync_assets.defs.partitions import DAILY, is_complete, window_of
from ggufsync_assets.defs.resources import WRITER_POOL, CatalogueResource, HubResource, SettingsResource
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.progress import HubStats
from ggufsync_assets.redaction import redact_text
from ggufsync_assets.settings import Settings
from ggufsync_assets.sync.steps import (
    FilesResult,
    ListingResult,
    list_window,
    refresh_files,
    score_completeness,
)

GROUP = "gguf"
MODE_TAG = "ggufsync/mode"
LOGGER = "ggufsync"
T = TypeVar("T")


def configure_logging(settings: Settings) -> None:
    """log_level (DEBUG under debug_mode) for every ggufsync logger, in runs and in the CLI."""
    level = logging.DEBUG if settings.debug_mode else getattr(logging, settings.log_level.value)
    logging.getLogger(LOGGER).setLevel(level)


def _now() -> datetime:
    return datetime.now(UTC)


def _range(context: dg.AssetExecutionContext) -> tuple[str, str]:
    keys = context.partition_keys
    return keys[0], keys[-1]


def _performance(settings: Settings, started: float, stats: HubStats | None = None) -> dict[str, Any]:
    if not settings.monitoring.enable_performance_metrics:
        return {}
    metrics: dict[str, Any] = {
        "duration_seconds": round(time.monotonic() - started, 3),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if stats is not None:
        metrics |= {
            "api_requests": stats.requests,
            "retries": stats.retries,
            "rate_limited": stats.rate_limited,
            "bytes_received": stats.bytes_received,
        }
    return metrics


@contextlib.contextmanager
def _sync_step(
    context: dg.AssetExecutionContext, store: CatalogueStore, settings: Settings, step: str
) -> Iterator[None]:
    """Record a failing step in sync_runs; publish what was written only if asked to."""
    try:
        yield
    except Exception as exc:
        message = redact_text(f"{step}: {type(exc).__name__}: {exc}")
        with store.writer() as writer:
            writer.ensure_run(
                context.run.run_id, mode=context.run.tags.get(MODE_TAG, "manual"), started_at=_now()
            )
            writer.finish_run(context.run.run_id, status="failed", finished_at=_now(), error=message)
        if not settings.error_handling.preserve_data_on_failure:
            store.publish()
        raise


def _progress(context: dg.AssetExecutionContext, step: str) -> Any:
    def report(stats: HubStats) -> None:
        context.log.info(
            f"{step}: {stats.requests} requests, {stats.records} records, {stats.retries} retries, "
            f"{stats.rate_limited} rate-limited, {stats.elapsed_seconds:.0f} s"
        )

    return report


def _hub_step(
    context: dg.AssetExecutionContext,
    hub: HubResource,
    *,
    store: CatalogueStore,
    settings: Settings,
    step: str,
    work: Callable[[HubClient, CatalogueWriter], Awaitable[T]],
) -> tuple[T, HubStats]:
    """Run one step that talks to the Hub and writes the catalogue, and report its client's stats."""

    async def main() -> tuple[T, HubStats]:
        async with hub.client(_progress(context, step)) as client:
            with store.writer() as writer:
                result = await work(client, writer)
            return result, client.stats

    with _sync_step(context, store, settings, step):
        return asyncio.run(main())


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
    window_freshness = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=settings.sync_behavior.incremental_window_hours)
    )
    full_freshness = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=settings.sync_behavior.full_sync_threshold_hours)
    )
    partitioned: dict[str, Any] = {
        "partitions_def": DAILY,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "pool": WRITER_POOL,
        "group_name": GROUP,
        "retry_policy": retry,
        "freshness_policy": window_freshness,
    }

    @dg.asset(kinds={"huggingface", "duckdb"}, **partitioned)
    def gguf_model_listing(
        context: dg.AssetExecutionContext,
        settings: SettingsResource,
        hub: HubResource,
        catalogue: CatalogueResource,
    ) -> dg.MaterializeResult:
        """Discover every GGUF repo modified in the partition range and upsert its listing row."""
        started, config, store = time.monotonic(), settings.load(), catalogue.store()
        configure_logging(config)
        first, last = _range(context)
        now = _now()

        async def work(client: HubClient, writer: CatalogueWriter) -> ListingResult:
            writer.ensure_run(
                context.run.run_id,
                mode=context.run.tags.get(MODE_TAG, "manual"),
                started_at=now,
                partition_start=first,
                partition_end=last,
                complete_pass=is_complete(first, last),
            )
            result = await list_window(
                client, writer, config, window_of(first, last), run_id=context.run.run_id, now=now
            )
            writer.finish_run(
                context.run.run_id,
                status="running",
                api_requests=client.stats.requests,
                repos_listed=result.listed,
                repos_new=result.new,
                repos_changed=result.changed,
                rejects=result.rejected,
            )
            return result

        result, stats = _hub_step(context, hub, store=store, settings=config, step="listing", work=work)
        counts = {k: v for k, v in asdict(result).items() if k != "strategies"}
        return dg.MaterializeResult(
            metadata={
                **counts,
                "partition_range": f"{first}..{last}",
                "complete_pass": is_complete(first, last),
                "found_per_strategy": dg.MetadataValue.json(result.strategies),
                **_performance(config, started, stats),
            }
        )

    @dg.asset(deps=[gguf_model_listing], kinds={"huggingface", "duckdb"}, **partitioned)
    def gguf_model_files(
        context: dg.AssetExecutionContext,
        settings: SettingsResource,
        hub: HubResource,
        catalogue: CatalogueResource,
    ) -> dg.MaterializeResult:
        """Fetch the file tree of new and changed repos only: quantizations, split parts, sizes."""
        started, config, store = time.monotonic(), settings.load(), catalogue.store()
        configure_logging(config)
        first, last = _range(context)

        async def work(client: HubClient, writer: CatalogueWriter) -> FilesResult:
            result = await refresh_files(
                client, writer, config, window_of(first, last), run_id=context.run.run_id, now=_now()
            )
            writer.add_run_counts(
                context.run.run_id,
                api_requests=client.stats.requests,
                repos_refreshed=result.refreshed,
                rejects=result.rejected,
            )
            return result

        result, stats = _hub_step(context, hub, store=store, settings=config, step="files", work=work)
        return dg.MaterializeResult(metadata={**asdict(result), **_performance(config, started, stats)})

    @dg.asset(deps=[gguf_model_files], kinds={"duckdb"}, **partitioned)
    def gguf_model_completeness(
        context: dg.AssetExecutionContext, settings: SettingsResource, catalogue: CatalogueResource
    ) -> dg.MaterializeResult:
        """Score how complete each repo's entry is (0..1); the completeness check enforces the minimum."""
        started, config, store = time.monotonic(), settings.load(), catalogue.store()
        configure_logging(config)
        first, last = _range(context)
        with _sync_step(context, store, config, "completeness"), store.writer() as writer:
            result = score_completeness(
                writer, window_of(first, last), config.validation.min_completeness_score
            )
        return dg.MaterializeResult(
            metadata={
                "repos_scored": result.scored,
                "mean_completeness": result.mean,
                "min_completeness": result.minimum,
                "below_min_completeness_score": result.below_threshold,
                **_performance(config, started),
            }
        )

    @dg.asset(
        deps=[gguf_model_completeness],
        kinds={"duckdb", "parquet"},
        pool=WRITER_POOL,
        group_name=GROUP,
        retry_policy=retry,
        freshness_policy=full_freshness,
    )
    def gguf_catalogue(
        context: dg.AssetExecutionContext, settings: SettingsResource, catalogue: CatalogueResource
    ) -> dg.MaterializeResult:
        """Finish the sync: tombstone what a complete pass no longer found, publish the snapshot."""
        started, config, store = time.monotonic(), settings.load(), catalogue.store()
        configure_logging(config)
        with _sync_step(context, store, config, "catalogue"):
            with store.writer() as writer:
                run = writer.run(context.run.run_id)
                removed = 0
                if run is not None and run["complete_pass"]:
                    removed = writer.mark_removed(
                        seen_since=run["started_at"], run_id=context.run.run_id, now=_now()
                    )
                writer.finish_run(
                    context.run.run_id, status="succeeded", finished_at=_now(), repos_removed=removed
                )
                totals = writer.totals()
            store.publish()
            exports = store.export(compress=config.performance.enable_data_compression)
        return dg.MaterializeResult(
            metadata={
                **totals,
                "repos_removed": removed,
                "published": dg.MetadataValue.path(str(store.published)),
                "exports": dg.MetadataValue.json([str(p) for p in exports]),
                **_performance(config, started),
            }
        )

    return [gguf_model_listing, gguf_model_files, gguf_model_completeness, gguf_catalogue]
