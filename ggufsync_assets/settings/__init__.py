"""Typed, layered configuration: the single source of every tunable in ggufsync."""

from ggufsync_assets.settings.errors import ConfigError, Problem
from ggufsync_assets.settings.layers import LoadedSettings, load_settings
from ggufsync_assets.settings.model import Environment, Settings, SyncMode

__all__ = [
    "ConfigError",
    "Environment",
    "LoadedSettings",
    "Problem",
    "Settings",
    "SyncMode",
    "load_settings",
]
