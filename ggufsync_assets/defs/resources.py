"""Dagster resources: the settings (loaded where the run executes), the Hub client, the catalogue.

Settings are loaded inside the run, not stored in run config, so the token (from the run's
environment or a cached login) never lands in Dagster's storage or UI.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.hub.client import ClientOptions, HubClient
from ggufsync_assets.hub.progress import ProgressCallback
from ggufsync_assets.settings import Settings, load_settings

WRITER_POOL = "catalogue_writer"


class SettingsResource(dg.ConfigurableResource):
    """Which configuration to load: an environment, a config folder and command-line overrides."""

    environment: str | None = None
    config_dir: str | None = None
    overrides_json: str = "{}"

    def load(self) -> Settings:
        return load_settings(
            env=self.environment,
            flags=json.loads(self.overrides_json),
            directory=Path(self.config_dir) if self.config_dir else None,
        ).settings


class HubResource(dg.ConfigurableResource):
    settings: SettingsResource

    def client(self, progress: ProgressCallback | None = None) -> HubClient:
        return HubClient(ClientOptions.from_settings(self.settings.load()), progress=progress)


class CatalogueResource(dg.ConfigurableResource):
    settings: SettingsResource

    def store(self) -> CatalogueStore:
        settings = self.settings.load()
        return CatalogueStore(
            Path(settings.storage.catalogue_path),
            chunk_size=settings.performance.chunk_size,
            memory_limit_mb=settings.performance.memory_limit_mb,
        )
