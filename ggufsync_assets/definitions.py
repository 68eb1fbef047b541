"""The Dagster code location, built from the effective settings.

Settings are loaded and validated when the code location loads, so a bad configuration stops
`dagster dev` and `dagster definitions validate` with the same clear message the CLI gives,
instead of failing inside a run.
"""

from __future__ import annotations

import dagster as dg

from ggufsync_assets.settings import ConfigError, Settings, load_settings


def load_validated_settings() -> Settings:
    try:
        return load_settings().settings
    except ConfigError as exc:
        raise dg.DagsterInvalidDefinitionError(f"invalid ggufsync configuration:\n{exc}") from None


SETTINGS = load_validated_settings()
defs = dg.Definitions()
