"""What past syncs tell the `auto` rule: Dagster's run records and the published catalogue."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
import duckdb

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.defs.tags import MODE_TAG, SYNC_TAG
from ggufsync_assets.sync.modes import SyncHistory

FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
IN_PROGRESS = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)


def sync_history(instance: dg.DagsterInstance, store: CatalogueStore) -> SyncHistory:
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={SYNC_TAG: "true"}, statuses=list(FINISHED)), limit=100
    )
    last_full = next(
        (
            r
            for r in records
            if r.dagster_run.status is dg.DagsterRunStatus.SUCCESS
            and r.dagster_run.tags.get(MODE_TAG) == "full"
        ),
        None,
    )
    repos_at_last_full = repos_now = None
    if store.published.exists():
        try:
            with store.reader() as con:
                repos_now = con.execute("SELECT count(*) FROM models WHERE removed_at IS NULL").fetchall()[0][
                    0
                ]
                found = con.execute(
                    "SELECT repos_listed FROM sync_runs WHERE complete_pass AND status = 'succeeded' "
                    "ORDER BY finished_at DESC LIMIT 1"
                ).fetchall()
                repos_at_last_full = found[0][0] if found else None
        except duckdb.Error:
            pass  # an unreadable snapshot says nothing; the other rules still apply
    return SyncHistory(
        last_full_success_at=(
            datetime.fromtimestamp(last_full.end_time, UTC) if last_full and last_full.end_time else None
        ),
        last_run_failed=bool(records) and records[0].dagster_run.status is not dg.DagsterRunStatus.SUCCESS,
        repos_at_last_full=repos_at_last_full,
        repos_now=repos_now,
        last_run_finished_at=(
            datetime.fromtimestamp(records[0].end_time, UTC) if records and records[0].end_time else None
        ),
    )


def sync_in_progress(instance: dg.DagsterInstance) -> bool:
    """A sync run is queued, starting or running."""
    return bool(
        instance.get_run_records(
            filters=dg.RunsFilter(tags={SYNC_TAG: "true"}, statuses=list(IN_PROGRESS)), limit=1
        )
    )
