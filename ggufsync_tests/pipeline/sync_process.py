"""One sync job run in a process of its own, as a second machine or terminal would start it:

    python -m ggufsync_tests.pipeline.sync_process full|incremental

Settings come from the environment (GGUFSYNC_* variables); the run uses a Dagster instance of its
own in a temporary home, so several of these at once share nothing but the catalogue and the Hub.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from ggufsync_assets.cli.sync_cmd import run_sync
from ggufsync_assets.defs.jobs import sync_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_assets.settings import SyncMode
from ggufsync_tests.instances import sync_instance


def main() -> int:
    resource = SyncResource()
    settings = resource.load()
    mode = SyncMode(sys.argv[1])
    with sync_instance() as instance:
        return run_sync(resource, settings, instance, sync_tags(settings, mode, datetime.now(UTC)))


if __name__ == "__main__":
    sys.exit(main())
