"""Alerts: a failed sync run, or a blocking asset check that failed, notifies the alert channels."""

import dagster as dg

from ggufsync_assets.alerts import Alert, AlertKind, Notifier
from ggufsync_assets.defs.jobs import sync_job
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
        """A sync run failed (after its retries): tell the alert channels."""
        run = context.dagster_run
        evaluations = [
            entry.asset_check_evaluation
            for entry in context.instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            )
        ]
        failed_checks = [
            e
            for e in evaluations
            if e is not None and not e.passed and e.severity is dg.AssetCheckSeverity.ERROR
        ]
        message = context.failure_event.message or "the run failed"
        if failed_checks:
            names = ", ".join(c.check_name for c in failed_checks)
            why = "\n".join(f"{c.check_name}: {c.description or 'failed'}" for c in failed_checks)
            notifier.send(Alert(AlertKind.CRITICAL, f"blocking check failed: {names}", why, run.run_id))
        notifier.send(Alert(AlertKind.FAILURE, f"sync run {run.run_id[:8]} failed", message, run.run_id))

    return [sync_failure_alert]
