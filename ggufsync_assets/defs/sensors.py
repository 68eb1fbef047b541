"""Alerts: a failed sync run, or a blocking asset check that failed, notifies the alert channels."""

import dagster as dg

from ggufsync_assets.alerts import Alert, AlertKind, Notifier
from ggufsync_assets.defs.jobs import sync_job
from ggufsync_assets.defs.tags import ALERTED_BY_TAG
from ggufsync_assets.settings import Settings


def build_alert_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    notifier = Notifier(settings)
    status = (
        dg.DefaultSensorStatus.RUNNING
        if settings.monitoring.enable_alerts
        else dg.DefaultSensorStatus.STOPPED
    )

    @dg.run_failure_sensor(monitored_jobs=[sync_job], default_status=status)
    def sync_failure_alert(context: dg.RunFailureSensorContext) -> None:
        """A sync run failed (after its retries): tell the alert channels, unless the command that
        ran it in its own process did (ALERTED_BY_TAG)."""
        run = context.dagster_run
        if run.tags.get(ALERTED_BY_TAG) == "cli":
            return
        alert_failed_run(notifier, context.instance, run.run_id, context.failure_event.message)

    return [sync_failure_alert]


def alert_failed_run(
    notifier: Notifier, instance: dg.DagsterInstance, run_id: str, message: str | None
) -> None:
    """A failed sync run's alerts: its failed blocking checks (critical), then the failure."""
    evaluations = [
        entry.asset_check_evaluation
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    failed_checks = [
        e for e in evaluations if e is not None and not e.passed and e.severity is dg.AssetCheckSeverity.ERROR
    ]
    if failed_checks:
        names = ", ".join(c.check_name for c in failed_checks)
        why = "\n".join(f"{c.check_name}: {c.description or 'failed'}" for c in failed_checks)
        notifier.send(Alert(AlertKind.CRITICAL, f"blocking check failed: {names}", why, run_id))
    notifier.send(
        Alert(AlertKind.FAILURE, f"sync run {run_id[:8]} failed", message or "the run failed", run_id)
    )
