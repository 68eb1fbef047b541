"""The one Dagster resource of a sync: its settings, and the catalogue store and Hub client built
from them.

Settings are loaded where the run executes, once per step (not stored in run config), so the
token (from the run's environment or a cached login) never lands in Dagster's storage or UI.
"""

from __future__ import annotations

import json
import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.hub.client import REQUEST_LOGGER, ClientOptions, HubClient
from ggufsync_assets.hub.progress import ProgressCallback
from ggufsync_assets.settings import Settings, load_settings

LOGGER = "ggufsync"
REQUEST_LOG = "logs/requests.log"
LIVE_LOGGER = "ggufsync.progress"
"""A step's progress as it goes (every hub.progress.LIVE_SECONDS), for a live view: `ggufsync sync`
on a terminal listens; nobody else does, and then the steps do not report to it."""
LOG_BYTES = 10 * 2**20
LOG_FILES = 5
"""ggufsync's log files rotate at 10 MiB and keep 5 old files (logs/requests.log: about 500,000
request lines)."""


def configure_logging(settings: Settings) -> None:
    """log_level (DEBUG under debug_mode) for every ggufsync logger, in runs and in the CLI; the Hub
    client's request lines to the instance's logs/requests.log."""
    level = logging.DEBUG if settings.debug_mode else getattr(logging, settings.log_level.value)
    logging.getLogger(LOGGER).setLevel(level)
    written = logging.INFO if settings.monitoring.enable_detailed_logging else logging.DEBUG
    home = os.environ.get("DAGSTER_HOME")
    if home and logging.getLogger(REQUEST_LOGGER).isEnabledFor(written):
        _log_requests_to(Path(home) / REQUEST_LOG)


def _log_requests_to(path: Path) -> None:
    """One rotating file handler on the request logger, at `path` (replacing one elsewhere)."""
    logger = logging.getLogger(REQUEST_LOGGER)
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler) and Path(handler.baseFilename) == path:
            return
        logger.removeHandler(handler)
        handler.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


class SyncResource(dg.ConfigurableResource["SyncResource"]):
    """Which configuration to load: an environment, a config folder and command-line overrides."""

    environment: str | None = None
    config_dir: str | None = None
    overrides_json: str = "{}"
    _loaded: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._loaded = self.load()
        configure_logging(self._loaded)

    def load(self) -> Settings:
        """Read and validate the settings now (definitions and sensors call this; steps use
        `settings`, loaded once when the step starts)."""
        return load_settings(
            env=self.environment,
            flags=json.loads(self.overrides_json),
            directory=Path(self.config_dir) if self.config_dir else None,
        ).settings

    @property
    def settings(self) -> Settings:
        if self._loaded is None:
            self._loaded = self.load()
        return self._loaded

    def store(self) -> CatalogueStore:
        return CatalogueStore.from_settings(self.settings)

    def client(
        self, progress: ProgressCallback | None = None, live: ProgressCallback | None = None
    ) -> HubClient:
        return HubClient(ClientOptions.from_settings(self.settings), progress=progress, live=live)
