"""Test isolation: no test sees the developer's environment, config folder or Hugging Face login."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["ggufsync_tests.hub_fixtures"]

_LEAKY_PREFIXES = ("GGUFSYNC_", "HF_", "HUGGINGFACE_")
_LEAKY_NAMES = ("SYNC_ENVIRONMENT", "SYNC_MODE", "MAX_CONCURRENCY", "LOG_LEVEL")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(_LEAKY_PREFIXES) or name in _LEAKY_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    # A test that forgets to ask for a config folder fails loudly instead of touching the repository's.
    monkeypatch.setenv("GGUFSYNC_CONFIG_DIR", str(tmp_path / "no-config-folder-requested"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
