"""The sync job: all four assets, run for one partition range (the schedules and the CLI say which)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import dagster as dg

from ggufsync_assets.defs.assets import GROUP
from ggufsync_assets.defs.partitions import FIRST_DAY, keys_for_hours, last_key, range_tags
from ggufsync_assets.defs.tags import MODE_TAG, SYNC_TAG
from ggufsync_assets.settings import Settings, SyncMode

SYNC_JOB = "ggufsync_sync"

sync_job = dg.define_asset_job(SYNC_JOB, selection=dg.AssetSelection.groups(GROUP))

CODE_LOCATION = "ggufsync"
"""The code location workspace.yaml names. Runs made outside the UI are filed under it, so the UI
lists them beside the runs it launched (a job's Runs tab and the Overview timeline only show runs
that name their code location)."""
REPOSITORY = "__repository__"
"""The name Dagster gives the one repository a `@definitions` module holds."""


def execute_sync_job(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    tags: Mapping[str, str],
    run_config: Mapping[str, Any],
) -> dg.JobExecutionResult:
    """Run the sync job in this process, as a run of ggufsync's code location.

    `execute_in_process` records no code location, so its runs are missing from the job's Runs
    tab and the timeline. Dagster has no public way to execute in process under an origin, so
    this creates the run with one and executes it with Dagster's own in-process machinery.
    """
    from dagster._core.definitions.job_base import InMemoryJob  # noqa: PLC0415 - see above
    from dagster._core.execution.api import create_execution_plan, execute_run  # noqa: PLC0415
    from dagster._core.remote_origin import (  # noqa: PLC0415
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin  # noqa: PLC0415

    job_def = definitions.resolve_job_def(SYNC_JOB)
    job = InMemoryJob(job_def)
    config = {**run_config, "execution": {"config": {"in_process": {}}}}
    plan = create_execution_plan(job, run_config=config, instance_ref=instance.get_ref())
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable,
            module_name="ggufsync_assets.definitions",
            working_directory=os.getcwd(),
        ),
        location_name=CODE_LOCATION,
    )
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY), SYNC_JOB)
    run = instance.create_run_for_job(
        job_def=job_def,
        run_config=config,
        tags={**job_def.run_tags, **tags},
        execution_plan=plan,
        remote_job_origin=origin,
    )
    return execute_run(job, run, instance)


def sync_tags(settings: Settings, mode: SyncMode, now: datetime) -> dict[str, str]:
    """Run tags for a sync in `mode`: the partition range it covers, and what kind of sync it is."""
    if mode is SyncMode.FULL:
        first, last = FIRST_DAY, last_key()
    else:
        first, last = keys_for_hours(settings.sync_behavior.incremental_window_hours, now)
    return {**range_tags(first, last), MODE_TAG: mode.value, SYNC_TAG: "true"}
