"""The config files in the repository: valid, matching the guide's recommendations, and safe."""

from __future__ import annotations

from pathlib import Path

import pytest

from ggufsync_assets.config_deploy.store import ConfigStore
from ggufsync_assets.settings import Environment, load_settings
from ggufsync_assets.settings.layers import flatten
from ggufsync_assets.settings.profiles import profile_settings
from ggufsync_tests.configuration.conftest import SHIPPED_CONFIG

ENVIRONMENTS = [e.value for e in Environment]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_environment_file_is_valid_and_declares_its_environment(env: str) -> None:
    settings = ConfigStore(SHIPPED_CONFIG, audit_enabled=False).validate(
        SHIPPED_CONFIG / f"sync-config-{env}.yaml"
    )
    assert settings.environment.value == env


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_files_hold_the_recommended_profile(env: str) -> None:
    shipped = load_settings(env=env, use_environment=False, directory=SHIPPED_CONFIG).settings
    assert flatten(shipped.model_dump(mode="json")) == flatten(
        profile_settings(Environment(env)).model_dump(mode="json")
    )


def test_active_file_is_valid() -> None:
    assert (
        load_settings(use_environment=False, directory=SHIPPED_CONFIG).settings.environment
        is Environment.DEVELOPMENT
    )


def test_production_rate_limits_are_reasonable() -> None:
    production = load_settings(env="production", use_environment=False, directory=SHIPPED_CONFIG).settings
    assert production.rate_limiting.requests_per_second <= 2.0
    assert production.rate_limiting.max_concurrent_requests <= 100


def test_no_shipped_file_holds_a_token() -> None:
    for path in SHIPPED_CONFIG.glob("sync-config*.yaml"):
        assert "huggingface_token: null" in path.read_text()


def test_backups_folder_exists_but_its_content_is_not_tracked() -> None:
    assert (SHIPPED_CONFIG / "backups").is_dir()
    ignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().splitlines()
    assert "config/backups/*" in ignore
