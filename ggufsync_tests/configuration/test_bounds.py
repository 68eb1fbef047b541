"""Every bound the configuration guide implies is enforced by the Settings model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ggufsync_assets.settings import Settings


def _accepts(**sections: Any) -> bool:
    try:
        Settings(**sections)
    except ValidationError:
        return False
    return True


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_requests_per_second_must_be_positive(value: float) -> None:
    assert _accepts(rate_limiting={"requests_per_second": value}) == (0 < value <= 1000)


@given(st.integers(min_value=-10_000, max_value=10_000))
def test_max_concurrent_requests_must_be_at_least_one(value: int) -> None:
    assert _accepts(rate_limiting={"max_concurrent_requests": value}) == (1 <= value <= 1000)


@given(st.integers(min_value=-10, max_value=100))
def test_max_retries_is_between_zero_and_twenty(value: int) -> None:
    assert _accepts(rate_limiting={"max_retries": value}) == (0 <= value <= 20)


@given(st.integers(min_value=-10, max_value=20_000_000))
def test_requests_per_hour_is_positive_and_at_most_ten_million(value: int) -> None:
    assert _accepts(rate_limiting={"requests_per_hour": value}) == (0 < value <= 10_000_000)


@given(st.integers(min_value=-5, max_value=50))
def test_max_recovery_attempts_is_between_zero_and_ten(value: int) -> None:
    assert _accepts(error_handling={"max_recovery_attempts": value}) == (0 <= value <= 10)


@given(st.integers(min_value=-5, max_value=20_000))
def test_incremental_window_is_an_hour_to_a_leap_year(value: int) -> None:
    sync = {"incremental_window_hours": value, "full_sync_threshold_hours": max(value, 1)}
    assert _accepts(sync_behavior=sync) == (1 <= value <= 24 * 366)


@given(st.integers(min_value=-5, max_value=100_000))
def test_full_sync_threshold_is_at_most_five_leap_years(value: int) -> None:
    sync = {"incremental_window_hours": 1, "full_sync_threshold_hours": value}
    assert _accepts(sync_behavior=sync) == (1 <= value <= 24 * 366 * 5)


@given(st.floats(allow_nan=False, min_value=-5, max_value=5))
def test_min_completeness_score_lies_between_zero_and_one(value: float) -> None:
    assert _accepts(validation={"min_completeness_score": value}) == (0 <= value <= 1)


@given(st.floats(allow_nan=False, min_value=-5, max_value=5))
def test_max_share_below_minimum_lies_between_zero_and_one(value: float) -> None:
    assert _accepts(validation={"max_share_below_minimum": value}) == (0 <= value <= 1)


@given(st.integers(min_value=0, max_value=1 << 30))
def test_max_bytes_of_a_header_read_is_bounded(value: int) -> None:
    assert _accepts(gguf_headers={"max_bytes": value}) == (64 * 1024 <= value <= 256 * 1024 * 1024)


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=500))
def test_full_sync_threshold_is_at_least_the_incremental_window(window: int, threshold: int) -> None:
    sync = {"incremental_window_hours": window, "full_sync_threshold_hours": threshold}
    assert _accepts(sync_behavior=sync) == (threshold >= window)


@given(st.integers(min_value=-5, max_value=300_000))
def test_chunk_size_is_a_sane_row_count(value: int) -> None:
    assert _accepts(performance={"chunk_size": value}) == (1 <= value <= 100_000)


@given(st.integers(min_value=0, max_value=2_000_000))
def test_memory_limit_is_a_sane_number_of_megabytes(value: int) -> None:
    assert _accepts(performance={"memory_limit_mb": value}) == (128 <= value <= 1_048_576)


@given(st.integers(min_value=-5, max_value=5000))
def test_backup_retention_is_at_least_one_day(value: int) -> None:
    assert _accepts(storage={"backup_retention_days": value}) == (1 <= value <= 3650)


@given(st.integers(min_value=-5, max_value=100_000))
def test_progress_interval_is_at_least_a_second_and_at_most_a_day(value: int) -> None:
    assert _accepts(monitoring={"progress_report_interval_seconds": value}) == (1 <= value <= 86_400)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sync_behavior.mode", "sometimes"),
        ("environment", "qa"),
        ("log_level", "LOUD"),
        ("monitoring.alert_channels", ["pager"]),
    ],
)
def test_enumerations_refuse_unknown_values(key: str, value: Any) -> None:
    section, _, leaf = key.partition(".")
    data = {section: {leaf: value}} if leaf else {section: value}
    assert not _accepts(**data)


def test_sync_mode_accepts_auto_incremental_and_full() -> None:
    for mode in ("auto", "incremental", "full"):
        assert Settings(sync_behavior={"mode": mode}).sync_behavior.mode.value == mode


def test_allowed_domains_must_not_be_empty() -> None:
    assert not _accepts(security={"allowed_domains": []})


@pytest.mark.parametrize("domain", ["https://hub.example.org", "hub.example.org/api", "not a host", ""])
def test_allowed_domains_must_be_bare_host_names(domain: str) -> None:
    assert not _accepts(security={"allowed_domains": [domain]})


def test_allowed_domains_are_normalised_to_lower_case() -> None:
    settings = Settings(security={"allowed_domains": ["Hub.Example.ORG."]})
    assert settings.security.allowed_domains == ["hub.example.org"]


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/x", "hooks.example.com/x", "https://"])
def test_webhook_urls_must_be_http_urls(url: str) -> None:
    assert not _accepts(notifications={"webhook_urls": [url]})


def test_hub_endpoint_must_be_an_http_url() -> None:
    assert not _accepts(hub={"endpoint": "hub.example.org"})
    assert Settings(hub={"endpoint": "http://127.0.0.1:8080/"}).hub.endpoint == "http://127.0.0.1:8080"


def test_webhook_alert_channel_needs_a_webhook_url() -> None:
    monitoring = {"enable_alerts": True, "alert_channels": ["log", "webhook"]}
    assert not _accepts(monitoring=monitoring)
    assert _accepts(
        monitoring=monitoring, notifications={"webhook_urls": ["https://hooks.example.com/T/B/X"]}
    )


def test_alert_channels_refuse_repeats() -> None:
    assert not _accepts(monitoring={"alert_channels": ["log", "log"]})


def test_discovery_lists_refuse_blank_and_repeated_entries() -> None:
    assert not _accepts(discovery={"authors": ["bartowski", " "]})
    assert not _accepts(discovery={"search_terms": ["gguf", "gguf"]})


def test_catalogue_path_must_name_a_file() -> None:
    assert not _accepts(storage={"catalogue_path": "data/"})


def test_token_is_never_shown_in_the_settings_repr() -> None:
    settings = Settings(huggingface_token="hf_abcdefghijklmnopqrstuvwxyz")
    assert "hf_abcdefghijklmnopqrstuvwxyz" not in repr(settings)
    assert settings.token_value() == "hf_abcdefghijklmnopqrstuvwxyz"


@given(st.integers(min_value=-5, max_value=200))
def test_freshness_sync_minutes_is_off_or_divides_an_hour(value: int) -> None:
    assert _accepts(sync_behavior={"freshness_sync_minutes": value}) == (
        value == 0 or (0 < value <= 60 and 60 % value == 0)
    )
