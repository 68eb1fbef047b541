"""Recommended settings per environment, from the configuration guide.

`ggufsync config create ENV` writes these as a config file; the shipped
`config/sync-config-<env>.yaml` files were made that way and a test keeps them equal.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from ggufsync_assets.settings.model import Environment, Settings

PROFILES: dict[Environment, dict[str, Any]] = {
    Environment.DEVELOPMENT: {
        "log_level": "DEBUG",
        "debug_mode": True,
        "rate_limiting": {"requests_per_second": 0.5, "max_concurrent_requests": 10},
        "sync_behavior": {"mode": "incremental", "incremental_window_hours": 24},
        "validation": {"enable_file_verification": False},
        "performance": {"enable_streaming_processing": False, "enable_parallel_processing": False},
        "monitoring": {"enable_alerts": False},
        "notifications": {"enable_failure_notifications": False},
    },
    Environment.STAGING: {
        "log_level": "INFO",
        "rate_limiting": {
            "requests_per_second": 1.0,
            "requests_per_hour": 3800,
            "max_concurrent_requests": 40,
        },
        "monitoring": {
            "progress_report_interval_seconds": 600,
            "enable_detailed_logging": True,
            "enable_alerts": True,
        },
        "validation": {
            "enable_schema_validation": True,
            "enable_file_verification": True,
            "min_completeness_score": 0.92,
            "max_share_below_minimum": 0.02,
        },
    },
    Environment.PRODUCTION: {
        "log_level": "INFO",
        "debug_mode": False,
        "rate_limiting": {
            "requests_per_second": 1.2,
            "requests_per_hour": 4800,
            "max_concurrent_requests": 50,
            "max_retries": 5,
        },
        "sync_behavior": {
            "mode": "auto",
            "incremental_window_hours": 48,
            "full_sync_threshold_hours": 168,
        },
        "validation": {
            "min_completeness_score": 0.95,
            "max_share_below_minimum": 0.01,
            "enable_file_verification": True,
        },
        "error_handling": {
            "preserve_data_on_failure": True,
            "enable_notifications": True,
            "max_recovery_attempts": 3,
        },
        "monitoring": {
            "enable_detailed_logging": True,
            "enable_alerts": True,
            "enable_performance_metrics": True,
        },
        "security": {"enable_audit_logging": True, "mask_sensitive_data": True},
    },
}


def profile_settings(env: Environment) -> Settings:
    return Settings(environment=env, **PROFILES[env])


def render_profile(env: Environment, today: date) -> str:
    """A complete, commented config file for an environment: every key, nothing implicit."""
    data = profile_settings(env).model_dump(mode="json")
    data["huggingface_token"] = None
    header = (
        f"# ggufsync configuration: {env.value}\n"
        f"# Created: {today.isoformat()} by `ggufsync config create {env.value}`\n"
        "# Every key is listed; docs/configuration.md says what each one changes.\n"
        "# Never put a token here: huggingface_token stays null and the token comes from\n"
        "# HUGGINGFACE_TOKEN or HF_TOKEN in the environment (or a cached `hf auth login`).\n\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
