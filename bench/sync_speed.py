"""How fast a full sync goes against the simulator on this machine, and what it costs.

    .venv/bin/python bench/sync_speed.py --repos 2000            # the sync steps alone
    .venv/bin/python bench/sync_speed.py --repos 300 --dagster   # the whole Dagster job (ephemeral instance)

Prints wall time, API requests, catalogue rows and peak memory. Loopback only; bounded by --repos.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.demo_cmd import demo_overrides
from ggufsync_assets.definitions import build_definitions
from ggufsync_assets.defs.jobs import SYNC_JOB, sync_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hubsim import HubSimulator
from ggufsync_assets.settings import Settings, SyncMode
from ggufsync_assets.sync.completeness import score_completeness
from ggufsync_assets.sync.listing import list_window
from ggufsync_assets.sync.refresh import refresh_files
from ggufsync_assets.sync.window import Window


async def _steps(settings: Settings, store: CatalogueStore) -> int:
    now = datetime.now(UTC)
    async with HubClient(ClientOptions.from_settings(settings)) as client:
        with store.writer() as writer:
            await list_window(client, writer, settings, Window(None, None), run_id="bench", now=now)
            await refresh_files(client, writer, settings, Window(None, None), run_id="bench", now=now)
            score_completeness(writer, Window(None, None), settings.validation.min_completeness_score)
        return client.stats.requests


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repos", type=int, default=2000)
    parser.add_argument("--dagster", action="store_true", help="run the Dagster job, not the steps alone")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        HubSimulator(repos=args.repos, seed=3, api_quota=10_000_000, resolvers_quota=10_000_000) as hub,
    ):
        catalogue = Path(folder) / "catalogue.duckdb"
        (Path(folder) / "sync-config.yaml").write_text("environment: development\n")
        resource_ = SyncResource(
            config_dir=folder, overrides_json=json.dumps(demo_overrides(hub.url, catalogue))
        )
        settings = resource_.load()
        started = time.perf_counter()
        if args.dagster:
            job = build_definitions(resource_).resolve_job_def(SYNC_JOB)
            result = job.execute_in_process(
                instance=dg.DagsterInstance.ephemeral(),
                tags=sync_tags(settings, SyncMode.FULL, datetime.now(UTC)),
                run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            )
            assert result.success
            store = CatalogueStore(catalogue)
            requests = sum(r.status is not None for r in hub.requests)
        else:
            store = CatalogueStore(catalogue, chunk_size=settings.performance.chunk_size)
            requests = asyncio.run(_steps(settings, store))
            store.publish()
        seconds = time.perf_counter() - started
        with store.reader() as con:
            [(repos, files)] = con.execute(
                "SELECT count(*), (SELECT count(*) FROM model_files) FROM models"
            ).fetchall()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mode            {'dagster job' if args.dagster else 'sync steps'}")
    print(f"simulated repos {args.repos}")
    print(f"catalogued      {repos} repos, {files} files")
    print(f"api requests    {requests}")
    print(f"wall time       {seconds:.1f} s ({repos / seconds:.0f} repos/s)")
    print(f"peak memory     {peak:.0f} MiB (simulator included)")


if __name__ == "__main__":
    main()
