"""The configuration guide's "Common Pitfalls to Avoid", each one a test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from ggufsync_tests.configuration.conftest import Run, backups, snapshot


def test_1_invalid_values_exit_2_naming_key_value_and_bound(
    run: Run, write_config: Callable[..., Path]
) -> None:
    write_config(
        {
            "rate_limiting": {"requests_per_second": 0, "max_concurrent_requests": -1},
            "validation": {"min_completeness_score": 1.5},
        },
        name="broken.yaml",
    )
    code, out, _ = run("validate", "broken.yaml")
    assert code == 2
    assert "rate_limiting.requests_per_second = 0: Input should be greater than 0" in out
    assert "rate_limiting.max_concurrent_requests = -1: Input should be greater than or equal to 1" in out
    assert "validation.min_completeness_score = 1.5: Input should be less than or equal to 1" in out


def test_1_the_correct_values_validate(run: Run, write_config: Callable[..., Path]) -> None:
    write_config(
        {
            "rate_limiting": {"requests_per_second": 1.2, "max_concurrent_requests": 50},
            "validation": {"min_completeness_score": 0.95},
        },
        name="fixed.yaml",
    )
    assert run("validate", "fixed.yaml")[0] == 0


def test_2_deploying_the_wrong_environment_is_refused_and_writes_nothing(run: Run, config_dir: Path) -> None:
    before = snapshot(config_dir)
    code, _, err = run("deploy", "production", "--source", str(config_dir / "sync-config-development.yaml"))
    assert code == 2
    assert "is not 'production'" in err
    assert snapshot(config_dir) == before


def test_2_matching_environment_and_file_deploys(run: Run, config_dir: Path) -> None:
    code, _, _ = run("deploy", "production", "--source", str(config_dir / "sync-config-production.yaml"))
    assert code == 0


def test_3_validation_cannot_be_skipped(run: Run, config_dir: Path) -> None:
    before = snapshot(config_dir)
    code, _, err = run("deploy", "production", "--no-validate")
    assert code == 2
    assert "validation cannot be skipped" in err
    assert snapshot(config_dir) == before


def test_4_staging_first_then_production_each_backed_up(run: Run, config_dir: Path) -> None:
    assert run("deploy", "staging")[0] == 0
    assert run("deploy", "production")[0] == 0
    assert yaml.safe_load((config_dir / "sync-config.yaml").read_text())["environment"] == "production"
    assert [yaml.safe_load(b.read_text())["environment"] for b in backups(config_dir)] == [
        "development",
        "staging",
    ]
