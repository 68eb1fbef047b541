"""`ggufsync demo`: the whole product offline, in about a minute.

Starts the bundled Hub simulator on loopback, runs a full sync through the Dagster assets and
checks into data/catalogue.duckdb, prints a summary and a few example queries, and leaves the
catalogue and the Dagster runs in place for `make ui` (dagster dev) and `ggufsync query`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.common import EXIT_OK, CliError
from ggufsync_assets.cli.sync_cmd import run_sync
from ggufsync_assets.defs.instance import instance
from ggufsync_assets.defs.jobs import sync_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.settings import SyncMode
from ggufsync_assets.settings.layers import config_dir

EXAMPLES = {
    "Most common quantizations": "SELECT quantization, repos, files FROM quantization_summary LIMIT 5",
    "Architectures": "SELECT architecture, repos, max_context_length FROM architecture_summary LIMIT 5",
    "Scores: completeness (what the catalogue holds of the Hub's offer), card (what uploaders tell)": (
        "SELECT score, round(min(value), 2) AS min, round(quantile_cont(value, 0.1), 2) AS p10, "
        "round(median(value), 2) AS median, round(avg(value), 3) AS mean "
        "FROM (UNPIVOT (SELECT completeness_score, card_score FROM current_models) "
        "ON completeness_score, card_score INTO NAME score VALUE value) GROUP BY score ORDER BY score"
    ),
    "The best file of each repo that runs in 8 GiB with an 8k context": (
        "SELECT repo_id, quantization, file_gib, needs_gib FROM runs_in(8) LIMIT 5"
    ),
}


GENEROUS = 1_000_000
"""The simulated Hub's quotas: the demo shows a sync, not a wait for a rate-limit window."""


def configure(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--repos", type=int, default=300, help="size of the simulated Hub")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--catalogue", type=Path, default=Path("data/catalogue.duckdb"))
    demo.set_defaults(handler=_demo)


def demo_overrides(hub_url: str, catalogue: Path) -> dict[str, Any]:
    """The simulator instead of the Hub, at loopback speed (its quota is generous)."""
    return {
        "hub.endpoint": hub_url,
        "security.allowed_domains": ["127.0.0.2"],
        "rate_limiting.requests_per_second": 500,
        "rate_limiting.requests_per_hour": 10_000_000,
        "rate_limiting.max_concurrent_requests": 8,
        "storage.catalogue_path": str(catalogue),
        "log_level": "WARNING",
    }


@contextlib.contextmanager
def simulated_hub(repos: int, seed: int) -> Iterator[str]:
    """The Hub simulator's URL, served by a process of its own as the Hub is served from elsewhere:
    in the sync's process, building and serving real-sized GGUF headers would take the sync's core."""
    command = [sys.executable, "-m", "ggufsync_assets.cli.main", "hub", "serve", "--repos", str(repos)]
    command += ["--seed", str(seed), "--quota", str(GENEROUS), "--resolver-quota", str(GENEROUS)]
    # Its stderr (a banner meant for `hub serve` at a terminal) is kept for a failure to start only.
    with (
        tempfile.TemporaryFile(mode="w+") as said,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=said, text=True) as process,  # noqa: S603 (our own command)
    ):
        try:
            url = process.stdout.readline().strip() if process.stdout else ""
            if not url:
                process.wait()
                said.seek(0)
                raise CliError(
                    f"the Hub simulator did not start (exit code {process.returncode}): {said.read()}"
                )
            yield url
        finally:
            process.terminate()


def _demo(args: argparse.Namespace) -> int:
    with simulated_hub(args.repos, args.seed) as url:
        print(f"simulated Hub with {args.repos} repos at {url}")
        flags = demo_overrides(url, args.catalogue)
        resource = SyncResource(config_dir=str(config_dir()), overrides_json=json.dumps(flags))
        settings = resource.load()
        with instance() as dagster:
            code = run_sync(
                resource, settings, dagster, sync_tags(settings, SyncMode.FULL, datetime.now(UTC))
            )
    if code != EXIT_OK:
        return code
    with CatalogueStore(args.catalogue).reader() as con:
        for title, sql in EXAMPLES.items():
            print(f'\n{title}:\n  ggufsync query "{sql}"')
            for row in con.sql(sql).fetchall():
                print("   ", *row)
    print(
        f"\nThe catalogue is {args.catalogue}; open it with `ggufsync query` or `duckdb -readonly {args.catalogue}`."
        f"\nThe runs and checks are in the Dagster instance at {dagster.root_directory}: "
        f"`DAGSTER_HOME={dagster.root_directory} .venv/bin/dagster dev -w workspace.yaml` (in the project, "
        "`make ui` for .dagster_home) opens the Dagster UI at http://127.0.0.1:3000."
    )
    return EXIT_OK
