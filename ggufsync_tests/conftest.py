"""Test isolation: no test sees the developer's environment, config folder or Hugging Face login."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ggufsync_tests.alerts import Receiver, running_receiver

pytest_plugins = ["ggufsync_tests.hub_fixtures"]

# Loaded always, not only when CI is set: a deadline is a wall-clock limit that fails tests on a busy
# machine, and derandomized examples (which use no example database) are the same on every machine
# and write nothing into the repository. `pytest --hypothesis-profile=default` explores new examples.
settings.register_profile(
    "ci", deadline=None, derandomize=True, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")

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


@pytest.fixture
def bare_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder whose active file holds only `environment: development` (all else default)."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "sync-config.yaml").write_text("environment: development\n")
    monkeypatch.setenv("GGUFSYNC_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback HTTP server that records what it is sent (a webhook, GitHub, or an empty Hub)."""
    with running_receiver() as server:
        yield server
