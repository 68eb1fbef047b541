"""When syncs run unattended: a daily sync, a weekly full pass, and a sensor for `auto` mode.

With sync_behavior.mode auto the sensor decides each day (see sync/modes.py) and the schedules
start stopped; otherwise the daily schedule runs the configured mode and the weekly full pass
(the only kind that detects deletions) runs as well. With sync_behavior.freshness_sync_minutes set,
an incremental sync also runs that often, whatever the mode.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from ggufsync_assets.defs.history import sync_history, sync_in_progress
from ggufsync_assets.defs.jobs import sync_job, sync_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.tags import REASON_TAG
from ggufsync_assets.settings import Settings, SyncMode
from ggufsync_assets.sync.modes import decide_mode
from ggufsync_assets.sync.ownership import published_refusal

AUTO_CHECK_SECONDS = 3600


def build_schedules(
    settings: Settings, sync: SyncResource
) -> tuple[list[dg.ScheduleDefinition], list[dg.SensorDefinition]]:
    auto = settings.sync_behavior.mode is SyncMode.AUTO
    running, stopped = dg.DefaultScheduleStatus.RUNNING, dg.DefaultScheduleStatus.STOPPED
    daily_mode = SyncMode.FULL if settings.sync_behavior.mode is SyncMode.FULL else SyncMode.INCREMENTAL

    @dg.schedule(
        cron_schedule="0 3 * * *",
        job=sync_job,
        execution_timezone="UTC",
        default_status=stopped if auto else running,
    )
    def daily_sync(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        """Every day at 03:00 UTC: the partitions of the last incremental_window_hours (full if mode is full)."""
        if foreign := published_refusal(sync.store(), settings.hub.endpoint):
            return dg.SkipReason(foreign)
        return dg.RunRequest(tags=sync_tags(settings, daily_mode, context.scheduled_execution_time))

    @dg.schedule(
        cron_schedule="0 4 * * 0",
        job=sync_job,
        execution_timezone="UTC",
        default_status=stopped if auto else running,
    )
    def weekly_full_sync(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        """Sundays at 04:00 UTC: every partition, then tombstones for repos the Hub no longer has."""
        if foreign := published_refusal(sync.store(), settings.hub.endpoint):
            return dg.SkipReason(foreign)
        return dg.RunRequest(tags=sync_tags(settings, SyncMode.FULL, context.scheduled_execution_time))

    @dg.sensor(
        job=sync_job,
        minimum_interval_seconds=AUTO_CHECK_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING if auto else dg.DefaultSensorStatus.STOPPED,
    )
    def auto_sync_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Once a day (and again after a failure), run the sync the `auto` rule picks."""
        now = datetime.now(UTC)
        if foreign := published_refusal(sync.store(), settings.hub.endpoint):
            return dg.SensorResult(skip_reason=foreign)
        history = sync_history(context.instance, sync.store())
        mode, reason = decide_mode(settings, history, now)
        last = datetime.fromisoformat(context.cursor) if context.cursor else None
        # Retry once per failure: a failure that ended before the last request has been retried
        # already (that retry may still be running), so it does not call for another run every hour.
        failed_since_last = history.last_run_failed and (
            last is None or history.last_run_finished_at is None or history.last_run_finished_at > last
        )
        due = last is None or now - last >= timedelta(days=1) or failed_since_last
        if not due:
            return dg.SensorResult(
                skip_reason=f"a sync ran at {last:%Y-%m-%d %H:%M} UTC; next one due a day later"
            )
        context.log.info(f"auto mode chose a {mode.value} sync: {reason}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(tags={**sync_tags(settings, mode, now), REASON_TAG: reason})],
            cursor=now.isoformat(),
        )

    schedules = [daily_sync, weekly_full_sync]
    minutes = settings.sync_behavior.freshness_sync_minutes
    if minutes:

        @dg.schedule(
            cron_schedule=f"*/{minutes} * * * *" if minutes < 60 else "0 * * * *",
            job=sync_job,
            execution_timezone="UTC",
            default_status=running,
        )
        def freshness_sync(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
            """Every sync_behavior.freshness_sync_minutes: an incremental sync, so the catalogue trails
            the Hub by minutes. Skipped while another sync is under way: it covers the same changes."""
            if sync_in_progress(context.instance):
                return dg.SkipReason("a sync is under way")
            if foreign := published_refusal(sync.store(), settings.hub.endpoint):
                return dg.SkipReason(foreign)
            return dg.RunRequest(
                tags=sync_tags(settings, SyncMode.INCREMENTAL, context.scheduled_execution_time)
            )

        schedules.append(freshness_sync)
    return schedules, [auto_sync_sensor]
