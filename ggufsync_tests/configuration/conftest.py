"""A private copy of the shipped config folder for each test, so tests can deploy and break it freely."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "config"
    shutil.copytree(
        SHIPPED_CONFIG, target, ignore=shutil.ignore_patterns("audit.log", "sync-config_backup_*")
    )
    monkeypatch.setenv("GGUFSYNC_CONFIG_DIR", str(target))
    return target


@pytest.fixture
def write_config(config_dir: Path) -> Callable[..., Path]:
    """Write a config file (YAML text or a mapping) into the test's config folder."""

    def write(content: str | dict, name: str = "sync-config.yaml") -> Path:
        path = config_dir / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    return write
