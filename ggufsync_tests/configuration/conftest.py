"""A private copy of the shipped config folder for each test, so tests can deploy and break it freely."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ggufsync_assets.cli.main import main
from ggufsync_assets.config_deploy.store import BACKUP_PATTERN

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


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], config_dir: Path) -> Run:
    """Runs `ggufsync config ...` in process, always against the test's private config folder."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["config", *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes (the audit log aside), to prove a failed command wrote nothing."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "audit.log"
    }


def backups(config_dir: Path) -> list[Path]:
    return sorted(p for p in (config_dir / "backups").iterdir() if BACKUP_PATTERN.match(p.name))
