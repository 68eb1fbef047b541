"""The typed shape of ggufsync's configuration: every section, key, default and bound.

Values here are the code defaults, the lowest layer of the hierarchy (see `layers.py`). Each
bound encodes a mistake an operator can make in a YAML file and turns it into a load-time error
instead of a surprise half-way through a sync.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "GGUFSYNC_"
DEFAULT_ENDPOINT = "https://huggingface.co"

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class SyncMode(StrEnum):
    AUTO = "auto"
    INCREMENTAL = "incremental"
    FULL = "full"


class AlertChannel(StrEnum):
    LOG = "log"
    GITHUB = "github"
    WEBHOOK = "webhook"


def _http_url(value: str) -> str:
    """Accept only absolute http(s) URLs with a host; strip a trailing slash so joins are simple."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL with a host")
    return value.strip().rstrip("/")


def _hostname(value: str) -> str:
    host = value.strip().lower().rstrip(".")
    if "://" in host or "/" in host:
        bare = urlsplit(host if "://" in host else f"//{host}").hostname or host
        raise ValueError(f"must be a bare host name such as '{bare}', without scheme or path")
    if not _HOSTNAME.match(host):
        raise ValueError("must be a host name such as 'huggingface.co'")
    return host


HttpUrlStr = Annotated[str, AfterValidator(_http_url)]
HostName = Annotated[str, AfterValidator(_hostname)]


class Section(BaseModel):
    """Every section refuses unknown keys: a typo must fail loudly, not be ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class RateLimiting(Section):
    requests_per_second: float = Field(0.8, gt=0, le=1000)
    requests_per_hour: int = Field(800, gt=0, le=10_000_000)
    max_concurrent_requests: int = Field(20, ge=1, le=1000)
    max_retries: int = Field(3, ge=0, le=20)


class SyncBehavior(Section):
    mode: SyncMode = SyncMode.AUTO
    incremental_window_hours: int = Field(48, ge=1, le=24 * 366)
    full_sync_threshold_hours: int = Field(168, ge=1, le=24 * 366 * 5)
    enable_multi_strategy_discovery: bool = True
    enable_deduplication: bool = True
    freshness_sync_minutes: int = Field(0, ge=0, le=60)

    @field_validator("freshness_sync_minutes")
    @classmethod
    def _divides_an_hour(cls, minutes: int) -> int:
        if minutes and 60 % minutes:
            raise ValueError("must be 0 (off) or divide 60 (5, 10, 15, 20, 30, 60)")
        return minutes

    @model_validator(mode="after")
    def _threshold_covers_window(self) -> Self:
        if self.full_sync_threshold_hours < self.incremental_window_hours:
            raise ValueError(
                f"full_sync_threshold_hours ({self.full_sync_threshold_hours}) must be >= "
                f"incremental_window_hours ({self.incremental_window_hours})"
            )
        return self


class Validation(Section):
    enable_schema_validation: bool = True
    enable_file_verification: bool = False
    min_completeness_score: float = Field(0.9, ge=0, le=1)
    max_share_below_minimum: float = Field(0.05, ge=0, le=1)
    enable_automatic_fixes: bool = False


class ErrorHandling(Section):
    preserve_data_on_failure: bool = True
    enable_notifications: bool = False
    max_recovery_attempts: int = Field(3, ge=0, le=10)


class Monitoring(Section):
    progress_report_interval_seconds: int = Field(900, ge=1, le=86_400)
    enable_detailed_logging: bool = False
    enable_alerts: bool = False
    enable_performance_metrics: bool = True
    alert_channels: list[AlertChannel] = Field(default_factory=lambda: [AlertChannel.LOG])

    @field_validator("alert_channels")
    @classmethod
    def _no_repeats(cls, channels: list[AlertChannel]) -> list[AlertChannel]:
        if len(set(channels)) != len(channels):
            raise ValueError("lists a channel more than once")
        return channels


class Notifications(Section):
    enable_failure_notifications: bool = True
    enable_critical_notifications: bool = True
    webhook_urls: list[HttpUrlStr] = Field(default_factory=list)


class Performance(Section):
    enable_streaming_processing: bool = True
    memory_limit_mb: int = Field(2048, ge=128, le=1_048_576)
    chunk_size: int = Field(100, ge=1, le=100_000)
    enable_data_compression: bool = True
    enable_parallel_processing: bool = True
    enable_adaptive_parameters: bool = True


class Security(Section):
    enable_audit_logging: bool = True
    mask_sensitive_data: bool = True
    allowed_domains: list[HostName] = Field(default_factory=lambda: ["huggingface.co", "hf.co"], min_length=1)
    enable_request_signing: bool = False


class Storage(Section):
    backup_retention_days: int = Field(30, ge=1, le=3650)
    enable_compression: bool = True
    catalogue_path: str = Field("data/catalogue.duckdb", min_length=1)

    @field_validator("catalogue_path")
    @classmethod
    def _is_a_file(cls, path: str) -> str:
        if path.endswith(("/", "\\")):
            raise ValueError("must name a file, not a folder")
        return path


class CustomSettings(Section):
    enable_experimental_features: bool = False


class Hub(Section):
    endpoint: HttpUrlStr = DEFAULT_ENDPOINT


class GgufHeaders(Section):
    read: bool = True
    max_bytes: int = Field(16 * 1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024)


class Discovery(Section):
    authors: list[str] = Field(
        default_factory=lambda: [
            "bartowski",
            "unsloth",
            "mradermacher",
            "lmstudio-community",
            "TheBloke",
            "QuantFactory",
        ]
    )
    search_terms: list[str] = Field(default_factory=list)

    @field_validator("authors", "search_terms")
    @classmethod
    def _non_blank_unique(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not v for v in cleaned):
            raise ValueError("entries must not be blank")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("lists an entry more than once")
        return cleaned


class Settings(BaseSettings):
    """The whole configuration. Build it with `load_settings`, which records where values came from."""

    model_config = SettingsConfigDict(
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        validate_default=True,
    )

    environment: Environment = Environment.DEVELOPMENT
    log_level: LogLevel = LogLevel.INFO
    debug_mode: bool = False
    huggingface_token: SecretStr | None = None

    rate_limiting: RateLimiting = Field(default_factory=RateLimiting)
    sync_behavior: SyncBehavior = Field(default_factory=SyncBehavior)
    validation: Validation = Field(default_factory=Validation)
    error_handling: ErrorHandling = Field(default_factory=ErrorHandling)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    notifications: Notifications = Field(default_factory=Notifications)
    performance: Performance = Field(default_factory=Performance)
    security: Security = Field(default_factory=Security)
    storage: Storage = Field(default_factory=Storage)
    custom_settings: CustomSettings = Field(default_factory=CustomSettings)
    hub: Hub = Field(default_factory=Hub)
    discovery: Discovery = Field(default_factory=Discovery)
    gguf_headers: GgufHeaders = Field(default_factory=GgufHeaders)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Layering (file < env < flags) happens in `layers.load_settings`, which must see each
        # layer on its own to say where a value came from; the model only validates the result.
        return (init_settings,)

    @model_validator(mode="after")
    def _webhook_channel_has_urls(self) -> Self:
        if (
            self.monitoring.enable_alerts
            and AlertChannel.WEBHOOK in self.monitoring.alert_channels
            and not self.notifications.webhook_urls
        ):
            raise ValueError(
                "monitoring.alert_channels includes 'webhook' but notifications.webhook_urls is empty"
            )
        return self

    def token_value(self) -> str | None:
        """The token for the Hub client; the only way code reads the secret."""
        return self.huggingface_token.get_secret_value() if self.huggingface_token else None


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}


def key_paths() -> list[str]:
    """Every settable key as a dotted path, in declaration order."""
    paths: list[str] = []
    for name in Settings.model_fields:
        section = SECTIONS.get(name)
        if section is None:
            paths.append(name)
        else:
            paths.extend(f"{name}.{key}" for key in section.model_fields)
    return paths
