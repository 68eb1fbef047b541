"""Every client-related setting reaches the client."""

from __future__ import annotations

from ggufsync_assets.hub.client import ClientOptions
from ggufsync_assets.settings import Settings


def test_client_options_come_from_the_settings() -> None:
    settings = Settings(
        huggingface_token="hf_optionstoken000000000000",
        rate_limiting={
            "requests_per_second": 1.5,
            "requests_per_hour": 1234,
            "max_concurrent_requests": 7,
            "max_retries": 4,
        },
        security={"allowed_domains": ["example.org"], "mask_sensitive_data": False},
        performance={"enable_adaptive_parameters": False},
        monitoring={"enable_detailed_logging": True, "progress_report_interval_seconds": 42},
        hub={"endpoint": "http://127.0.0.1:9999"},
    )
    assert ClientOptions.from_settings(settings) == ClientOptions(
        endpoint="http://127.0.0.1:9999",
        token="hf_optionstoken000000000000",
        requests_per_second=1.5,
        requests_per_hour=1234,
        max_concurrent_requests=7,
        max_retries=4,
        allowed_domains=("example.org",),
        mask_sensitive_data=False,
        adaptive_concurrency=False,
        detailed_logging=True,
        progress_interval_seconds=42,
    )


def test_overrides_win_over_settings() -> None:
    options = ClientOptions.from_settings(Settings(), max_retries=0)
    assert options.max_retries == 0
