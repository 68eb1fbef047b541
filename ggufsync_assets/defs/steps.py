"""What every step of a sync run does around its work: hold the catalogue for the run, record a
failure once, and report time, memory and Hub requests.

A run holds the catalogue from its first write to its publish (catalogue/lease.py). A run that
died (killed process, lost machine, or a Dagster run that ended without letting go) holds
nothing: the next run takes over, marks the dead run failed in Dagster and abandoned in
sync_runs, and says so in one log line.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError

from ggufsync_assets.catalogue.backups import CatalogueBackups
from ggufsync_assets.catalogue.lease import Holder, process_gone
from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter
from ggufsync_assets.defs.resources import LIVE_LOGGER, SyncResource
from ggufsync_assets.defs.tags import MODE_TAG
from ggufsync_assets.hub.client import HubClient
from ggufsync_assets.hub.progress import HubStats
from ggufsync_assets.redaction import redact_text
from ggufsync_assets.settings import Settings, SyncMode
from ggufsync_assets.sync.ownership import published_refusal

StepContext = dg.AssetExecutionContext | dg.AssetCheckExecutionContext


def now() -> datetime:
    return datetime.now(UTC)


def mode_of(context: StepContext) -> str:
    return context.run.tags.get(MODE_TAG, "manual")


def holder_dead(instance: dg.DagsterInstance) -> Callable[[Holder], bool]:
    """A holder is dead when Dagster says its run ended, or when its process is gone."""

    def dead(holder: Holder) -> bool:
        run = instance.get_run_by_id(holder.run_id)
        return (run is not None and run.is_finished) or process_gone(holder)

    return dead


INTERRUPTS = (DagsterExecutionInterruptedError, KeyboardInterrupt)
"""What Dagster raises in a step on Ctrl-C or SIGTERM."""


def _stopped(what: str) -> dg.Failure:
    """Dagster retries an interrupted step under its retry policy (for a preempted worker); a sync
    interrupted on purpose stops instead, its run failed."""
    return dg.Failure(f"{what}: the sync stops (Ctrl-C or SIGTERM)", allow_retries=False)


def claim(context: StepContext, store: CatalogueStore) -> None:
    """Hold the catalogue for this run, waiting (asleep) while another live run holds it; a Ctrl-C
    or SIGTERM ends the wait and the run."""
    run_id = context.run.run_id

    def waiting(holder: Holder) -> None:
        context.log.info(f"waiting for the catalogue: it is held by {holder.describe()}")

    try:
        taken = store.claim(run_id, is_dead=holder_dead(context.instance), waiting=waiting)
    except INTERRUPTS as interrupt:
        raise _stopped("interrupted while waiting for the catalogue") from interrupt
    if taken.replaced is not None:
        _abandon(context, store, taken.replaced)


def _abandon(context: StepContext, store: CatalogueStore, dead: Holder) -> None:
    message = (
        f"abandoned: it ended or died while holding the catalogue; taken over by run {context.run.run_id}"
    )
    run = context.instance.get_run_by_id(dead.run_id)
    if run is not None and not run.is_finished:
        context.instance.report_run_failed(run, message)
    with store.writer() as writer:
        writer.abandon_run(dead.run_id, finished_at=now(), error=message)
    context.log.warning(f"took the catalogue over from {dead.describe()}, which had ended or died")


@contextlib.contextmanager
def holding(context: StepContext, sync: SyncResource, step: str) -> Iterator[CatalogueStore]:
    """The catalogue store, held for this run while the step works; a failure is recorded. A
    catalogue of another Hub than the configured one (sync/ownership.py) is neither held nor
    touched: the step fails at once, for good (a retry would be refused alike). The run's first
    step asks; while the run holds the catalogue, only the run itself publishes it."""
    store = sync.store()
    if not store.lease.held_by(context.run.run_id) and (
        foreign := published_refusal(store, sync.settings.hub.endpoint)
    ):
        raise dg.Failure(f"{step}: {foreign}", allow_retries=False)
    claim(context, store)
    try:
        yield store
    except INTERRUPTS as interrupt:
        fail_run(context, sync, f"{step}: interrupted (Ctrl-C or SIGTERM)")
        raise _stopped(f"{step} interrupted") from interrupt
    except Exception as exc:
        fail_run(context, sync, f"{step}: {type(exc).__name__}: {exc}", final=_last_try(context))
        raise


@contextlib.contextmanager
def writing(context: StepContext, sync: SyncResource, step: str) -> Iterator[CatalogueWriter]:
    """`holding`, with the working file open for writing."""
    with holding(context, sync, step) as store, store.writer() as writer:
        yield writer


def _last_try(context: StepContext) -> bool:
    policy = context.op_def.retry_policy
    return policy is None or context.retry_number >= policy.max_retries


def fail_run(context: StepContext, sync: SyncResource, message: str, *, final: bool = True) -> None:
    """End the run's sync as failed: its sync_runs row says why, what was written is published only
    if error_handling.preserve_data_on_failure is off, and the catalogue is let go once no retry
    follows."""
    store = sync.store()
    with store.writer() as writer:
        writer.ensure_run(context.run.run_id, mode=mode_of(context), started_at=now())
        writer.finish_run(context.run.run_id, status="failed", finished_at=now(), error=redact_text(message))
    if not sync.settings.error_handling.preserve_data_on_failure:
        back_up_before_full_publish(context, sync, store)
        store.publish()
    if final:
        store.release(context.run.run_id)


def back_up_before_full_publish(context: StepContext, sync: SyncResource, store: CatalogueStore) -> None:
    """A full sync replaces the whole published catalogue: back up the one it replaces first, then
    remove backups past storage.backup_retention_days. A published file that no longer opens is
    kept too (a full sync is how it gets repaired), though it is never restored.

    A step retried after its run published (it failed later, writing the exports) would only back
    up what its own run published: the catalogue the run replaced was backed up before its first
    publish."""
    if mode_of(context) != SyncMode.FULL or not store.published.exists():
        return
    if store.published_by(context.run.run_id):
        context.log.info("the published catalogue is already this run's own: no second backup")
        return
    storage = sync.settings.storage
    backups = CatalogueBackups(store, compress=storage.enable_compression)
    taken = backups.take(
        reason=f"before full sync run {context.run.run_id} published", require_readable=False
    )
    context.log.info(f"backed up the published catalogue to {taken.path} before the full sync replaces it")
    for old in backups.prune(storage.backup_retention_days):
        context.log.info(f"removed backup {old.name} (older than {storage.backup_retention_days} days)")


@contextlib.asynccontextmanager
async def hub_writing(
    context: dg.AssetExecutionContext, sync: SyncResource, step: str
) -> AsyncIterator[tuple[HubClient, CatalogueWriter]]:
    """`writing`, with a Hub client that logs its progress as this step's."""
    live = logging.getLogger(LIVE_LOGGER)  # listened to by a live view only (the CLI on a terminal)
    watched = progress_lines(live.info, step) if live.handlers else None
    async with sync.client(progress_lines(context.log.info, step), watched) as client:
        with writing(context, sync, step) as writer:
            yield client, writer


def progress_lines(log: Callable[[str], None], step: str) -> Callable[[HubStats], None]:
    """The Hub client's reports as this step's progress lines, to `log`."""
    return lambda stats: log(stats.describe(step))


def performance(settings: Settings, started: float, stats: HubStats | None = None) -> dict[str, Any]:
    """Duration, peak memory and Hub request counts, when monitoring.enable_performance_metrics."""
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
