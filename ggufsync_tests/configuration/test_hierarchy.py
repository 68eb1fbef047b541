"""Defaults < config file < environment variables < command-line flags, one test per layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import huggingface_hub.constants
import pytest

from ggufsync_assets.settings import ConfigError, load_settings
from ggufsync_assets.settings.layers import LOGIN_ORIGIN


def test_code_defaults_apply_when_the_file_is_silent(write_config: Callable[..., Path]) -> None:
    write_config("environment: development\n")
    loaded = load_settings()
    assert loaded.settings.rate_limiting.max_retries == 3
    assert loaded.origin("rate_limiting.max_retries") == "default"


def test_config_file_overrides_defaults(write_config: Callable[..., Path]) -> None:
    path = write_config({"rate_limiting": {"max_retries": 7}})
    loaded = load_settings()
    assert loaded.settings.rate_limiting.max_retries == 7
    assert loaded.origin("rate_limiting.max_retries") == str(path)


def test_prefixed_environment_variable_overrides_the_file(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({"rate_limiting": {"max_retries": 7}})
    monkeypatch.setenv("GGUFSYNC_RATE_LIMITING__MAX_RETRIES", "9")
    loaded = load_settings()
    assert loaded.settings.rate_limiting.max_retries == 9
    assert loaded.origin("rate_limiting.max_retries") == "env GGUFSYNC_RATE_LIMITING__MAX_RETRIES"


def test_top_level_keys_have_prefixed_variables_too(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({"debug_mode": False})
    monkeypatch.setenv("GGUFSYNC_DEBUG_MODE", "true")
    assert load_settings().settings.debug_mode is True


def test_list_values_come_from_json_variables(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({})
    monkeypatch.setenv("GGUFSYNC_SECURITY__ALLOWED_DOMAINS", '["hub.example.org", "127.0.0.1"]')
    assert load_settings().settings.security.allowed_domains == ["hub.example.org", "127.0.0.1"]


def test_a_list_variable_that_is_not_json_is_a_clear_error(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({})
    monkeypatch.setenv("GGUFSYNC_SECURITY__ALLOWED_DOMAINS", "hub.example.org,cdn.example.org")
    with pytest.raises(ConfigError, match="JSON"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("SYNC_MODE", "full", ("sync_behavior", "mode"), "full"),
        ("MAX_CONCURRENCY", "20", ("rate_limiting", "max_concurrent_requests"), 20),
        ("LOG_LEVEL", "WARNING", ("log_level",), "WARNING"),
        ("HF_ENDPOINT", "http://127.0.0.1:9999", ("hub", "endpoint"), "http://127.0.0.1:9999"),
    ],
)
def test_guide_variables_override_the_file(
    write_config: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    attribute: tuple[str, ...],
    expected: object,
) -> None:
    write_config({})
    monkeypatch.setenv(variable, value)
    loaded = load_settings()
    result: object = loaded.settings
    for name in attribute:
        result = getattr(result, name)
    assert result == expected
    assert loaded.origin(".".join(attribute)) == f"env {variable}"


def test_prefixed_variable_wins_over_the_guide_name(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({})
    monkeypatch.setenv("SYNC_MODE", "full")
    monkeypatch.setenv("GGUFSYNC_SYNC_BEHAVIOR__MODE", "incremental")
    assert load_settings().settings.sync_behavior.mode.value == "incremental"


def test_command_line_flags_override_environment_variables(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({"sync_behavior": {"mode": "auto"}})
    monkeypatch.setenv("SYNC_MODE", "full")
    loaded = load_settings(flags={"sync_behavior.mode": "incremental"})
    assert loaded.settings.sync_behavior.mode.value == "incremental"
    assert loaded.origin("sync_behavior.mode") == "flag sync_behavior.mode"


def test_sync_environment_selects_the_environment_file(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_ENVIRONMENT", "staging")
    loaded = load_settings()
    assert loaded.config_file == config_dir / "sync-config-staging.yaml"
    assert loaded.settings.environment.value == "staging"
    assert loaded.settings.validation.min_completeness_score == 0.92


def test_env_argument_selects_the_environment_file_over_the_variable(
    config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNC_ENVIRONMENT", "staging")
    loaded = load_settings(env="production")
    assert loaded.config_file == config_dir / "sync-config-production.yaml"
    assert loaded.settings.rate_limiting.max_concurrent_requests == 50


def test_without_an_environment_the_active_file_is_used(config_dir: Path) -> None:
    assert load_settings().config_file == config_dir / "sync-config.yaml"


def test_an_unknown_environment_name_is_refused(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="must be one of development, staging, production"):
        load_settings(env="qa")


def test_an_environment_file_declaring_another_environment_is_refused(
    write_config: Callable[..., Path],
) -> None:
    write_config({"environment": "development"}, name="sync-config-production.yaml")
    with pytest.raises(ConfigError, match="this file is for 'development', but 'production' was selected"):
        load_settings(env="production")


def test_a_missing_file_is_a_clear_error(config_dir: Path) -> None:
    (config_dir / "sync-config.yaml").unlink()
    with pytest.raises(ConfigError, match="file not found"):
        load_settings()


def test_settings_can_be_read_from_another_folder(tmp_path: Path) -> None:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "sync-config.yaml").write_text("log_level: ERROR\n")
    assert load_settings(directory=folder).settings.log_level.value == "ERROR"


class TestToken:
    def test_comes_from_huggingface_token(
        self, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write_config({})
        monkeypatch.setenv("HUGGINGFACE_TOKEN", "hf_fromguidevariable0000000")
        loaded = load_settings()
        assert loaded.settings.token_value() == "hf_fromguidevariable0000000"
        assert loaded.origin("huggingface_token") == "env HUGGINGFACE_TOKEN"

    def test_comes_from_hf_token(
        self, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write_config({})
        monkeypatch.setenv("HF_TOKEN", "hf_fromhubvariable000000000")
        assert load_settings().settings.token_value() == "hf_fromhubvariable000000000"

    def test_huggingface_token_wins_over_hf_token(
        self, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write_config({})
        monkeypatch.setenv("HF_TOKEN", "hf_second00000000000000000")
        monkeypatch.setenv("HUGGINGFACE_TOKEN", "hf_first000000000000000000")
        assert load_settings().settings.token_value() == "hf_first000000000000000000"

    def test_comes_from_a_cached_login_when_no_variable_is_set(
        self, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        token_file = tmp_path / "token"
        token_file.write_text("hf_cachedlogin000000000000")
        monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(token_file))
        write_config({})
        loaded = load_settings()
        assert loaded.settings.token_value() == "hf_cachedlogin000000000000"
        assert loaded.origin("huggingface_token") == LOGIN_ORIGIN

    def test_is_optional(self, write_config: Callable[..., Path]) -> None:
        write_config({})
        assert load_settings().settings.token_value() is None

    def test_literal_in_a_config_file_is_refused_without_echoing_it(
        self, write_config: Callable[..., Path]
    ) -> None:
        write_config('huggingface_token: "hf_1234567890abcdefGHIJ"\n')
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert "never be stored" in str(caught.value)
        assert "hf_1234567890abcdefGHIJ" not in str(caught.value)

    def test_shaped_value_under_another_key_is_refused(self, write_config: Callable[..., Path]) -> None:
        write_config({"discovery": {"search_terms": ["hf_1234567890abcdefGHIJ"]}})
        with pytest.raises(ConfigError, match="looks like a Hugging Face token") as caught:
            load_settings()
        assert "hf_1234567890abcdefGHIJ" not in str(caught.value)

    def test_on_the_command_line_is_refused(self, write_config: Callable[..., Path]) -> None:
        write_config({})
        with pytest.raises(ConfigError, match="command line"):
            load_settings(flags={"huggingface_token": "hf_1234567890abcdefGHIJ"})


class TestMistakes:
    def test_unknown_key_suggests_the_nearest_one(self, write_config: Callable[..., Path]) -> None:
        write_config({"rate_limiting": {"request_per_second": 1}})
        with pytest.raises(
            ConfigError,
            match=r"rate_limiting\.request_per_second: unknown key \(did you mean 'requests_per_second'\?\)",
        ):
            load_settings()

    def test_unknown_section_suggests_the_nearest_one(self, write_config: Callable[..., Path]) -> None:
        write_config({"rate_limting": {"max_retries": 1}})
        with pytest.raises(ConfigError, match=r"did you mean 'rate_limiting'"):
            load_settings()

    def test_unknown_prefixed_variable_is_an_error(
        self, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write_config({})
        monkeypatch.setenv("GGUFSYNC_RATE_LIMITING__MAX_RETRY", "3")
        with pytest.raises(
            ConfigError,
            match=r"unknown variable \(did you mean 'GGUFSYNC_RATE_LIMITING__MAX_RETRIES'\?\)",
        ):
            load_settings()

    def test_error_names_source_key_value_and_what_is_allowed(
        self, write_config: Callable[..., Path]
    ) -> None:
        path = write_config({"validation": {"min_completeness_score": 1.5}})
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert str(caught.value) == (
            f"{path}: validation.min_completeness_score = 1.5: Input should be less than or equal to 1"
        )

    def test_error_names_the_variable_that_set_a_bad_value(
        self, write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write_config({})
        monkeypatch.setenv("MAX_CONCURRENCY", "0")
        with pytest.raises(
            ConfigError,
            match=r"^env MAX_CONCURRENCY: rate_limiting\.max_concurrent_requests = \"0\"",
        ):
            load_settings()

    def test_every_problem_is_reported_at_once(self, write_config: Callable[..., Path]) -> None:
        write_config({"rate_limiting": {"requests_per_second": 0, "max_concurrent_requests": -1}})
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert {p.path for p in caught.value.problems} == {
            "rate_limiting.requests_per_second",
            "rate_limiting.max_concurrent_requests",
        }

    def test_duplicate_keys_are_refused(self, write_config: Callable[..., Path]) -> None:
        write_config("log_level: INFO\nlog_level: DEBUG\n")
        with pytest.raises(ConfigError, match="duplicate key 'log_level'"):
            load_settings()

    def test_yaml_syntax_errors_say_where(self, write_config: Callable[..., Path]) -> None:
        write_config("rate_limiting:\n  max_retries: [1, 2\n")
        with pytest.raises(ConfigError, match=r"not valid YAML.*line"):
            load_settings()

    def test_a_file_that_is_not_a_mapping_is_refused(self, write_config: Callable[..., Path]) -> None:
        write_config("- just\n- a list\n")
        with pytest.raises(ConfigError, match="top level must be a mapping"):
            load_settings()

    def test_an_empty_file_means_all_defaults(self, write_config: Callable[..., Path]) -> None:
        write_config("")
        assert load_settings().settings.rate_limiting.requests_per_second == 0.8


def test_prefixed_variables_that_are_not_keys_are_not_unknown(
    write_config: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config({})
    monkeypatch.setenv("GGUFSYNC_WEBHOOK_SECRET", "not-a-setting")
    assert load_settings().settings.security.enable_request_signing is False
