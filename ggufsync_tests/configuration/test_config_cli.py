"""`ggufsync config ...` as an operator uses it: exit codes, messages, and what lands on disk."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ggufsync_assets.cli.main import main
from ggufsync_assets.hub.safety import HUB_FILE_HOSTS, HUB_FILES_DOMAIN
from ggufsync_assets.settings import ConfigError, load_settings
from ggufsync_tests.configuration.conftest import Run, backups, snapshot
from ggufsync_tests.hub_fixtures import HUB_HOST


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


class TestValidate:
    def test_shipped_active_file_is_valid(self, run: Run) -> None:
        code, out, _ = run("validate")
        assert code == 0
        assert "ok" in out

    def test_all_validates_every_file_in_the_folder(self, run: Run, config_dir: Path) -> None:
        code, out, _ = run("validate", "--all")
        assert code == 0
        for name in (
            "sync-config.yaml",
            "sync-config-development.yaml",
            "sync-config-staging.yaml",
            "sync-config-production.yaml",
        ):
            assert str(config_dir / name) in out

    def test_all_fails_when_any_file_is_invalid(self, run: Run, write_config: Callable[..., Path]) -> None:
        write_config({"rate_limiting": {"requests_per_second": 0}}, name="sync-config-staging.yaml")
        code, out, _ = run("validate", "--all")
        assert code == 2
        assert "invalid  " in out

    def test_environment_file_must_declare_its_own_environment(
        self, run: Run, write_config: Callable[..., Path]
    ) -> None:
        write_config({"environment": "development"}, name="sync-config-staging.yaml")
        code, out, _ = run("validate", "sync-config-staging.yaml")
        assert code == 2
        assert "the file name says 'staging'" in out

    def test_warns_when_production_file_is_readable_by_others(self, run: Run, config_dir: Path) -> None:
        production = config_dir / "sync-config-production.yaml"
        production.chmod(0o644)
        _, out, _ = run("validate", str(production))
        assert "chmod 600" in out

    def test_warns_when_allowed_domains_leave_out_the_hubs_file_hosts(
        self, run: Run, write_config: Callable[..., Path]
    ) -> None:
        restricted = write_config(
            {
                "environment": "staging",
                "security": {"allowed_domains": [HUB_HOST, f"api.{HUB_HOST}"]},
            },
            name="sync-config-staging.yaml",
        )
        code, out, _ = run("validate", str(restricted))
        assert code == 0
        assert f"warning: {restricted}: security.allowed_domains does not cover {HUB_FILE_HOSTS[0]}" in out
        assert f'add "{HUB_FILES_DOMAIN}"' in out

    def test_no_file_host_warning_when_nothing_reads_files(
        self, run: Run, write_config: Callable[..., Path]
    ) -> None:
        restricted = write_config(
            {
                "environment": "staging",
                "security": {"allowed_domains": [HUB_HOST]},
                "gguf_headers": {"read": False},
                "validation": {"enable_file_verification": False},
            },
            name="sync-config-staging.yaml",
        )
        _, out, _ = run("validate", str(restricted))
        assert "warning:" not in out

    def test_warns_when_the_github_alert_channel_has_nothing_to_post_with(
        self, run: Run, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        alerting = write_config(
            {
                "environment": "staging",
                "monitoring": {"enable_alerts": True, "alert_channels": ["log", "github"]},
            },
            name="sync-config-staging.yaml",
        )
        code, out, _ = run("validate", str(alerting))
        assert code == 0
        assert (
            f"warning: {alerting}: the github alert channel needs GITHUB_REPOSITORY and GITHUB_TOKEN" in out
        )

    def test_warns_when_signed_webhooks_have_no_secret(
        self, run: Run, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("GGUFSYNC_WEBHOOK_SECRET", raising=False)
        alerting = write_config(
            {
                "environment": "staging",
                "monitoring": {"enable_alerts": True, "alert_channels": ["webhook"]},
                "notifications": {"webhook_urls": ["https://hooks.example.com/x"]},
                "security": {"enable_request_signing": True},
            },
            name="sync-config-staging.yaml",
        )
        _, out, _ = run("validate", str(alerting))
        assert "security.enable_request_signing needs GGUFSYNC_WEBHOOK_SECRET, not set here" in out

    def test_missing_file_exits_2(self, run: Run) -> None:
        code, out, _ = run("validate", "nowhere.yaml")
        assert code == 2
        assert "file not found" in out


class TestValidateWithEnvironmentOverrides:
    """`config validate` checks what a sync would use: the file, then the variables that override it."""

    @pytest.mark.parametrize(
        ("variable", "value", "named"),
        [
            ("SYNC_MODE", "bogus", 'env SYNC_MODE: sync_behavior.mode = "bogus"'),
            ("MAX_CONCURRENCY", "0", 'env MAX_CONCURRENCY: rate_limiting.max_concurrent_requests = "0"'),
            ("LOG_LEVEL", "LOUD", "env LOG_LEVEL: log_level"),
            (
                "GGUFSYNC_RATE_LIMITING__MAX_RETRIES",
                "99",
                'env GGUFSYNC_RATE_LIMITING__MAX_RETRIES: rate_limiting.max_retries = "99"',
            ),
        ],
        ids=["unknown-sync-mode", "concurrency-below-one", "unknown-log-level", "key-variable-out-of-bounds"],
    )
    def test_a_variable_with_a_bad_value_fails_naming_the_variable(
        self, run: Run, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
    ) -> None:
        monkeypatch.setenv(variable, value)
        code, out, _ = run("validate")
        assert code == 2
        assert named in out

    def test_a_misspelt_variable_fails_with_a_suggestion(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("GGUFSYNC_RATE_LIMITNG__MAX_RETRIES", "2")
        code, out, _ = run("validate")
        assert code == 2
        assert "did you mean 'GGUFSYNC_RATE_LIMITING__MAX_RETRIES'?" in out

    def test_a_variable_that_breaks_a_rule_between_keys_with_the_file_fails_naming_both(
        self, run: Run, monkeypatch: pytest.MonkeyPatch, config_dir: Path
    ) -> None:
        monkeypatch.setenv("GGUFSYNC_SYNC_BEHAVIOR__INCREMENTAL_WINDOW_HOURS", "500")
        code, out, _ = run("validate")
        assert code == 2
        assert (
            f"{config_dir / 'sync-config.yaml'}, env GGUFSYNC_SYNC_BEHAVIOR__INCREMENTAL_WINDOW_HOURS: "
            "sync_behavior: full_sync_threshold_hours (168) must be >= incremental_window_hours (500)"
        ) in out

    def test_valid_overrides_pass_and_are_named(self, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SYNC_MODE", "full")
        monkeypatch.setenv("MAX_CONCURRENCY", "20")
        code, out, _ = run("validate")
        assert code == 0
        assert "environment overrides: MAX_CONCURRENCY, SYNC_MODE" in out

    def test_without_a_file_it_checks_the_file_sync_environment_selects(
        self, run: Run, monkeypatch: pytest.MonkeyPatch, config_dir: Path
    ) -> None:
        monkeypatch.setenv("SYNC_ENVIRONMENT", "staging")
        code, out, _ = run("validate")
        assert code == 0
        assert out.startswith(f"ok       {config_dir / 'sync-config-staging.yaml'}  (environment: staging")

    def test_an_unknown_sync_environment_fails_naming_the_variable(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SYNC_ENVIRONMENT", "prod")
        code, out, _ = run("validate")
        assert code == 2
        assert 'env SYNC_ENVIRONMENT: environment = "prod": must be one of' in out

    def test_a_named_file_is_checked_with_the_overrides(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("MAX_CONCURRENCY", "0")
        code, out, _ = run("validate", "sync-config-production.yaml")
        assert code == 2
        assert "env MAX_CONCURRENCY" in out

    def test_all_applies_the_overrides_to_every_file(self, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SYNC_MODE", "bogus")
        code, out, _ = run("validate", "--all")
        assert code == 2
        assert out.count("invalid  ") == out.count("env SYNC_MODE: ") == 4

    def test_all_checks_each_file_under_its_own_environment_whatever_sync_environment_says(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SYNC_ENVIRONMENT", "production")
        code, out, _ = run("validate", "--all")
        assert code == 0
        assert "(environment: staging)" in out

    def test_a_file_invalid_on_its_own_is_reported_as_the_file_says(
        self, run: Run, monkeypatch: pytest.MonkeyPatch, write_config: Callable[..., Path]
    ) -> None:
        write_config({"rate_limiting": {"requests_per_second": 0}}, name="bad.yaml")
        monkeypatch.setenv("SYNC_MODE", "full")
        code, out, _ = run("validate", "bad.yaml")
        assert code == 2
        assert "bad.yaml: rate_limiting.requests_per_second = 0" in out

    def test_an_invalid_override_is_audited_as_an_invalid_validation(
        self, run: Run, monkeypatch: pytest.MonkeyPatch, config_dir: Path
    ) -> None:
        monkeypatch.setenv("SYNC_MODE", "bogus")
        run("validate")
        entry = json.loads((config_dir / "audit.log").read_text().splitlines()[-1])
        assert (entry["action"], entry["outcome"]) == ("validate", "invalid")

    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        variables=st.dictionaries(
            st.sampled_from(["SYNC_MODE", "MAX_CONCURRENCY", "LOG_LEVEL", "SYNC_ENVIRONMENT"]),
            st.sampled_from(["full", "auto", "0", "1", "50", "-3", "DEBUG", "debug", "staging", "x", " "]),
            max_size=3,
        )
    )
    def test_says_ok_exactly_when_a_sync_would_load_its_settings(
        self, variables: dict[str, str], run: Run, config_dir: Path
    ) -> None:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in variables.items():
                patch.setenv(name, value)
            try:
                load_settings(directory=config_dir)  # what `ggufsync sync` loads
                loads = True
            except ConfigError:
                loads = False
            code, _, _ = run("validate")
        assert (code == 0) == loads


class TestShow:
    def test_lists_every_key_with_its_source(
        self, run: Run, monkeypatch: pytest.MonkeyPatch, config_dir: Path
    ) -> None:
        monkeypatch.setenv("SYNC_MODE", "full")
        code, out, err = run("show", "--set", "rate_limiting.max_retries=4", "--format", "json")
        assert code == 0
        shown = json.loads(out)  # stdout is the JSON document alone; the file is named on stderr
        assert err.startswith("# configuration file: ")
        assert shown["sync_behavior.mode"] == {"value": "full", "source": "env SYNC_MODE"}
        assert shown["rate_limiting.max_retries"] == {
            "value": 4,
            "source": "flag rate_limiting.max_retries",
        }
        assert shown["log_level"]["source"] == str(config_dir / "sync-config.yaml")

    def test_masks_the_token(self, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("HF_TOKEN", "hf_secretvalue0000000000000")
        code, out, _ = run("show")
        assert code == 0
        assert "hf_secretvalue0000000000000" not in out
        assert "****" in out

    def test_masks_webhook_paths_when_mask_sensitive_data_is_on(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "GGUFSYNC_NOTIFICATIONS__WEBHOOK_URLS",
            '["https://hooks.example.com/services/T0/B0/SECRET"]',
        )
        _, out, _ = run("show")
        assert "SECRET" not in out
        assert "https://hooks.example.com/****" in out

    def test_shows_webhooks_in_full_when_masking_is_off(
        self, run: Run, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "GGUFSYNC_NOTIFICATIONS__WEBHOOK_URLS",
            '["https://hooks.example.com/services/T0/B0/SECRET"]',
        )
        monkeypatch.setenv("HF_TOKEN", "hf_secretvalue0000000000000")
        _, out, _ = run("show", "--set", "security.mask_sensitive_data=false")
        assert "SECRET" in out
        assert "hf_secretvalue0000000000000" not in out

    def test_env_option_shows_that_environment(self, run: Run, config_dir: Path) -> None:
        _, out, _ = run("show", "--env", "production", "--format", "yaml")
        shown = yaml.safe_load(out)
        assert shown["environment"]["value"] == "production"
        assert shown["rate_limiting.max_concurrent_requests"]["source"] == str(
            config_dir / "sync-config-production.yaml"
        )

    def test_bad_override_exits_2(self, run: Run) -> None:
        code, _, err = run("show", "--set", "rate_limiting.max_concurrent_requests=0")
        assert code == 2
        assert "flag rate_limiting.max_concurrent_requests: rate_limiting.max_concurrent_requests = 0" in err


class TestCompare:
    def test_reports_differences_by_key_path(self, run: Run) -> None:
        code, out, _ = run("compare", "sync-config-staging.yaml", "sync-config-production.yaml")
        assert code == 0
        assert "rate_limiting.max_concurrent_requests" in out
        assert "40 -> 50" in out

    def test_a_key_set_to_its_default_equals_an_omitted_key(
        self, run: Run, write_config: Callable[..., Path]
    ) -> None:
        write_config({"rate_limiting": {"max_retries": 3}}, name="a.yaml")
        write_config({}, name="b.yaml")
        code, out, _ = run("compare", "a.yaml", "b.yaml")
        assert code == 0
        assert out.startswith("no differences")

    def test_key_order_and_formatting_do_not_matter(
        self, run: Run, write_config: Callable[..., Path]
    ) -> None:
        write_config("security:\n  mask_sensitive_data: true\n  enable_audit_logging: true\n", name="a.yaml")
        write_config("security: {enable_audit_logging: yes, mask_sensitive_data: True}\n", name="b.yaml")
        assert run("compare", "a.yaml", "b.yaml")[1].startswith("no differences")

    def test_an_invalid_side_exits_2(self, run: Run, write_config: Callable[..., Path]) -> None:
        write_config({"rate_limiting": {"requests_per_second": 0}}, name="bad.yaml")
        assert run("compare", "bad.yaml", "sync-config.yaml")[0] == 2


class TestCreate:
    def test_writes_the_recommended_values(self, run: Run, config_dir: Path) -> None:
        (config_dir / "sync-config-staging.yaml").unlink()
        code, out, _ = run("create", "staging")
        assert code == 0
        assert "created" in out
        created = yaml.safe_load((config_dir / "sync-config-staging.yaml").read_text())
        assert created["environment"] == "staging"
        assert created["validation"]["min_completeness_score"] == 0.92
        assert created["huggingface_token"] is None

    def test_refuses_to_overwrite_without_force(self, run: Run, config_dir: Path) -> None:
        before = snapshot(config_dir)
        code, _, err = run("create", "staging")
        assert code == 2
        assert "already exists" in err
        assert snapshot(config_dir) == before

    def test_production_file_is_private(self, run: Run, config_dir: Path) -> None:
        run("create", "production", "--force")
        assert _mode(config_dir / "sync-config-production.yaml") == 0o600


class TestDeploy:
    def test_backs_up_then_replaces_the_active_file(self, run: Run, config_dir: Path) -> None:
        previous = (config_dir / "sync-config.yaml").read_bytes()
        code, out, _ = run("deploy", "staging")
        assert code == 0
        assert (config_dir / "sync-config.yaml").read_bytes() == (
            config_dir / "sync-config-staging.yaml"
        ).read_bytes()
        [backup] = backups(config_dir)
        assert backup.read_bytes() == previous
        assert str(backup) in out

    def test_warns_that_sync_environment_keeps_a_sync_on_its_own_file(
        self, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SYNC_ENVIRONMENT", "production")
        code, out, _ = run("deploy", "staging")
        assert code == 0
        production, active = config_dir / "sync-config-production.yaml", config_dir / "sync-config.yaml"
        assert f"warning: SYNC_ENVIRONMENT=production is set: a sync reads {production}, not {active}" in out

    def test_no_warning_without_sync_environment(self, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("SYNC_ENVIRONMENT", raising=False)
        _, out, _ = run("deploy", "staging")
        assert "warning:" not in out

    def test_backup_name_follows_the_timestamp_pattern(self, run: Run, config_dir: Path) -> None:
        run("deploy", "staging")
        [backup] = backups(config_dir)
        stamp = backup.name.removeprefix("sync-config_backup_").removesuffix(".yaml")
        taken = datetime.strptime(stamp, "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
        assert abs(datetime.now(UTC) - taken) < timedelta(minutes=1)

    def test_backups_and_the_deployed_production_file_are_private(self, run: Run, config_dir: Path) -> None:
        run("deploy", "production")
        assert _mode(config_dir / "sync-config.yaml") == 0o600
        assert all(_mode(b) == 0o600 for b in backups(config_dir))

    def test_force_allows_another_environment_but_still_validates(
        self, run: Run, config_dir: Path, write_config: Callable[..., Path]
    ) -> None:
        assert (
            run(
                "deploy",
                "production",
                "--source",
                str(config_dir / "sync-config-development.yaml"),
                "--force",
            )[0]
            == 0
        )
        bad = write_config(
            {"environment": "development", "rate_limiting": {"requests_per_second": 0}},
            name="bad.yaml",
        )
        before = snapshot(config_dir)
        assert run("deploy", "production", "--source", str(bad), "--force")[0] == 2
        assert snapshot(config_dir) == before

    def test_invalid_source_writes_nothing(
        self, run: Run, config_dir: Path, write_config: Callable[..., Path]
    ) -> None:
        write_config(
            {"environment": "staging", "validation": {"min_completeness_score": 1.5}},
            name="sync-config-staging.yaml",
        )
        before = snapshot(config_dir)
        code, _, err = run("deploy", "staging")
        assert code == 2
        assert "validation.min_completeness_score = 1.5" in err
        assert snapshot(config_dir) == before

    def test_a_failed_replace_leaves_the_active_file_and_no_backup(
        self, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        before = snapshot(config_dir)

        def failing_replace(src: str, dst: str) -> None:
            if str(dst).endswith("sync-config.yaml"):
                raise OSError("disk full")
            os.rename(src, dst)

        monkeypatch.setattr(os, "replace", failing_replace)
        with pytest.raises(OSError, match="disk full"):
            run("deploy", "staging")
        assert snapshot(config_dir) == before
        assert not list(config_dir.rglob("*.tmp"))


class TestBackupAndRestore:
    def test_backup_copies_the_active_file(self, run: Run, config_dir: Path) -> None:
        code, _, _ = run("backup")
        assert code == 0
        [backup] = backups(config_dir)
        assert backup.read_bytes() == (config_dir / "sync-config.yaml").read_bytes()
        assert _mode(backup) == 0o600

    def test_two_backups_in_one_second_do_not_collide(self, run: Run, config_dir: Path) -> None:
        run("backup")
        run("backup")
        assert len(backups(config_dir)) == 2

    def test_restore_brings_a_backup_back_and_backs_up_the_current_file(
        self, run: Run, config_dir: Path
    ) -> None:
        run("backup")
        [original] = backups(config_dir)
        run("deploy", "production")
        code, _, _ = run("restore", original.name)
        assert code == 0
        assert (config_dir / "sync-config.yaml").read_bytes() == original.read_bytes()
        newest = backups(config_dir)[-1]
        assert yaml.safe_load(newest.read_text())["environment"] == "production"

    def test_restore_validates_first(self, run: Run, config_dir: Path) -> None:
        (config_dir / "backups").mkdir(exist_ok=True)
        bad = config_dir / "backups" / "sync-config_backup_20260101_000000.yaml"
        bad.write_text("rate_limiting:\n  requests_per_second: 0\n")
        before = snapshot(config_dir)
        code, _, err = run("restore", bad.name)
        assert code == 2
        assert "requests_per_second = 0" in err
        assert snapshot(config_dir) == before

    def test_restore_reads_compressedbackups(self, run: Run, config_dir: Path) -> None:
        (config_dir / "backups").mkdir(exist_ok=True)
        packed = config_dir / "backups" / "sync-config_backup_20260101_000000.yaml.gz"
        packed.write_bytes(gzip.compress((config_dir / "sync-config-staging.yaml").read_bytes()))
        assert run("restore", "sync-config_backup_20260101_000000.yaml")[0] == 0
        assert yaml.safe_load((config_dir / "sync-config.yaml").read_text())["environment"] == "staging"

    def test_restore_of_an_unknown_name_exits_2(self, run: Run) -> None:
        code, _, err = run("restore", "sync-config_backup_19990101_000000.yaml")
        assert code == 2
        assert "no backup named" in err

    def test_restore_refuses_names_that_leave_the_backup_folder(self, run: Run) -> None:
        assert run("restore", "../sync-config-nothing.yaml")[0] == 2


class TestListAndPrune:
    def test_list_shows_environments_active_andbackups(self, run: Run) -> None:
        run("backup")
        code, out, _ = run("list")
        assert code == 0
        assert "development  ok" in out
        assert "active:" in out
        assert "same as sync-config-development.yaml" in out
        assert "backups (1):" in out

    def _old_backup(self, config_dir: Path, days: int) -> Path:
        (config_dir / "backups").mkdir(exist_ok=True)
        stamp = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y%m%d_%H%M%S")
        path = config_dir / "backups" / f"sync-config_backup_{stamp}.yaml"
        path.write_text("environment: development\n")
        return path

    def test_prune_removes_backups_past_retention(self, run: Run, config_dir: Path) -> None:
        old = self._old_backup(config_dir, days=45)
        recent = self._old_backup(config_dir, days=0)
        code, _, _ = run("prune")
        assert code == 0
        assert not old.exists()
        assert recent.exists()

    def test_backup_and_deploy_also_apply_the_retention(self, run: Run, config_dir: Path) -> None:
        for command in (("backup",), ("deploy", "staging")):
            old = self._old_backup(config_dir, days=45)
            code, out, _ = run(*command)
            assert code == 0
            assert not old.exists()
            assert f"removed    {old}" in out

    def test_prune_keeps_the_newest_backup_however_old(self, run: Run, config_dir: Path) -> None:
        only = self._old_backup(config_dir, days=400)
        run("prune")
        assert only.exists() or only.with_name(only.name + ".gz").exists()

    def test_prune_compresses_backups_older_than_a_day(self, run: Run, config_dir: Path) -> None:
        middle = self._old_backup(config_dir, days=5)
        self._old_backup(config_dir, days=0)
        run("prune")
        packed = middle.with_name(middle.name + ".gz")
        assert packed.exists()
        assert not middle.exists()
        assert gzip.decompress(packed.read_bytes()) == b"environment: development\n"
        assert _mode(packed) == 0o600

    def test_prune_leaves_backups_uncompressed_when_compression_is_off(
        self, run: Run, config_dir: Path
    ) -> None:
        middle = self._old_backup(config_dir, days=5)
        run("prune", "--set", "storage.enable_compression=false")
        assert middle.exists()

    def test_prune_follows_the_configured_retention(self, run: Run, config_dir: Path) -> None:
        old = self._old_backup(config_dir, days=10)
        self._old_backup(config_dir, days=0)
        run("prune", "--set", "storage.backup_retention_days=7")
        assert not old.exists()
        assert not old.with_name(old.name + ".gz").exists()


class TestAudit:
    def test_every_action_is_recorded_with_user_and_hashes(self, run: Run, config_dir: Path) -> None:
        run("validate")
        run("deploy", "staging")
        entries = [json.loads(line) for line in (config_dir / "audit.log").read_text().splitlines()]
        # deploy applies the retention after its backup, as `config prune` does
        assert [e["action"] for e in entries] == ["validate", "deploy", "prune"]
        deploy = entries[1]
        assert deploy["outcome"] == "ok"
        assert deploy["user"]
        assert len(deploy["files"]["source"]["sha256"]) == 64
        assert deploy["files"]["backup"]["sha256"] != deploy["files"]["active"]["sha256"]
        assert _mode(config_dir / "audit.log") == 0o600

    def test_failures_are_recorded_too(self, run: Run, config_dir: Path) -> None:
        run("deploy", "production", "--source", str(config_dir / "sync-config-development.yaml"))
        entry = json.loads((config_dir / "audit.log").read_text().splitlines()[-1])
        assert entry["outcome"] == "error"
        assert "is not 'production'" in entry["error"]

    def test_secrets_never_reach_the_audit_log(
        self, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HF_TOKEN", "hf_secretvalue0000000000000")
        run("show")
        run("deploy", "staging")
        assert "hf_secretvalue0000000000000" not in (config_dir / "audit.log").read_text()

    def test_nothing_is_recorded_when_audit_logging_is_off(
        self, run: Run, config_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("GGUFSYNC_SECURITY__ENABLE_AUDIT_LOGGING", "false")
        run("deploy", "staging")
        assert not (config_dir / "audit.log").exists()


def test_console_script_runs_as_installed(config_dir: Path) -> None:
    script = Path(sys.executable).with_name("ggufsync")
    result = subprocess.run(
        [str(script), "config", "validate", "--all"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == 4


def test_console_script_exits_with_the_commands_code(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("ggufsync")
    missing = tmp_path / "none.duckdb"
    result = subprocess.run(
        [str(script), "query", "SELECT 1", "--catalogue", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "no catalogue" in result.stderr


def test_unknown_verb_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["config", "explode"])
    assert caught.value.code == 2
