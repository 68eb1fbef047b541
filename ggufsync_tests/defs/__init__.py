"""Dagster definitions: partitions, sync modes, schedules, the auto-mode sensor and alert sensors."""
