"""The sync steps alone, without Dagster, in a process of their own (as `ggufsync sync` is).

    .venv/bin/python -m bench.steps HUB_URL FOLDER

Lists, refreshes and scores every repo of the Hub at HUB_URL into FOLDER/catalogue.duckdb, then
publishes it, the way the assets run those steps. Prints one JSON line: the wall time of the steps
and the process's peak memory. The benchmark runs it against a simulator in another process, so
the steps do not share a core with the simulator any more than a sync under Dagster does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.demo_cmd import demo_overrides
from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.settings import Settings, load_settings
from ggufsync_assets.sync.completeness import score_completeness
from ggufsync_assets.sync.listing import list_window
from ggufsync_assets.sync.refresh import refresh_files
from ggufsync_assets.sync.window import Window

RUN_ID = "bench"


async def _steps(settings: Settings, store: CatalogueStore) -> None:
    now, everything = datetime.now(UTC), Window(None, None)
    async with HubClient(ClientOptions.from_settings(settings)) as client:
        store.claim(RUN_ID)
        with store.writer() as writer:
            await list_window(client, writer, settings, everything, run_id=RUN_ID, now=now)
            await refresh_files(client, writer, settings, everything, run_id=RUN_ID, now=now)
            score_completeness(writer, everything, settings.validation.min_completeness_score)
        store.release(RUN_ID)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__.split("\n\n")[0])
    parser.add_argument("hub_url")
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    (args.folder / "sync-config.yaml").write_text("environment: development\n")
    overrides = demo_overrides(args.hub_url, args.folder / "catalogue.duckdb")
    settings = load_settings(directory=args.folder, flags=overrides, use_environment=False).settings
    store = CatalogueStore.from_settings(settings)
    started = time.perf_counter()
    asyncio.run(_steps(settings, store))
    store.publish()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
