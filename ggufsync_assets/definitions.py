"""The Dagster code location, built from the effective settings: the file to open first.

Settings are loaded and validated when the code location loads, so a bad configuration stops
`dagster dev` and `dagster definitions validate` with the same clear message the CLI gives.
Runs load them again where they execute (see defs/resources.py), so tokens stay in the environment.
"""

from __future__ import annotations

import dagster as dg

from ggufsync_assets.defs.assets import build_assets
from ggufsync_assets.defs.jobs import sync_job
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.defs.schedules import build_schedules
from ggufsync_assets.defs.sensors import build_alert_sensors
from ggufsync_assets.settings import ConfigError


def build_definitions(sync: SyncResource | None = None) -> dg.Definitions:
    sync = sync or SyncResource()
    try:
        settings = sync.load()
    except ConfigError as exc:
        raise dg.DagsterInvalidDefinitionError(f"invalid ggufsync configuration:\n{exc}") from None
    schedules, auto_sensors = build_schedules(settings, sync)
    return dg.Definitions(
        assets=build_assets(settings),
        jobs=[sync_job],
        schedules=schedules,
        sensors=[*auto_sensors, *build_alert_sensors(settings)],
        resources={"sync": sync},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev` and `dagster definitions validate` load, when they load it (not on import)."""
    return build_definitions()
