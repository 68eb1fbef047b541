"""Alerts on failed runs and failed blocking checks, to the channels monitoring.alert_channels names.

- log: an ERROR line on the `ggufsync.alerts` logger (Dagster captures it in the daemon's logs).
- webhook: a JSON POST to every notifications.webhook_urls entry; with
  security.enable_request_signing the body is signed with HMAC-SHA256 using the secret in
  GGUFSYNC_WEBHOOK_SECRET, sent as `X-Ggufsync-Signature: sha256=<hex>`.
- github: an issue in $GITHUB_REPOSITORY through $GITHUB_API_URL (default https://api.github.com)
  with $GITHUB_TOKEN, the variables GitHub Actions provides.

Failure alerts need notifications.enable_failure_notifications and
error_handling.enable_notifications; critical alerts (a blocking check failed) need
notifications.enable_critical_notifications; nothing is sent unless monitoring.enable_alerts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum

import httpx

from ggufsync_assets.redaction import mask_url, redact_text
from ggufsync_assets.settings import Settings
from ggufsync_assets.settings.layers import WEBHOOK_SECRET_VARIABLE
from ggufsync_assets.settings.model import AlertChannel

log = logging.getLogger("ggufsync.alerts")

SIGNATURE_HEADER = "X-Ggufsync-Signature"
SECRET_VARIABLE = WEBHOOK_SECRET_VARIABLE
GITHUB_API = "https://api.github.com"


class AlertKind(StrEnum):
    FAILURE = "failure"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    title: str
    details: str
    run_id: str | None = None


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Notifier:
    def __init__(
        self, settings: Settings, environ: Mapping[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        self.timeout = timeout

    def undeliverable(self) -> list[str]:
        """Channels the settings turn on that this environment cannot deliver to: told when the
        configuration is validated, not first when an alert fails to go out."""
        if not self.settings.monitoring.enable_alerts:
            return []
        channels, missing = self.settings.monitoring.alert_channels, []
        if AlertChannel.GITHUB in channels and not (
            self.environ.get("GITHUB_REPOSITORY") and self.environ.get("GITHUB_TOKEN")
        ):
            missing.append(
                "the github alert channel needs GITHUB_REPOSITORY and GITHUB_TOKEN, not both set here"
            )
        signing = self.settings.security.enable_request_signing
        if AlertChannel.WEBHOOK in channels and signing and not self.environ.get(SECRET_VARIABLE):
            missing.append(f"security.enable_request_signing needs {SECRET_VARIABLE}, not set here")
        return missing

    def wanted(self, alert: Alert) -> bool:
        s = self.settings
        if not s.monitoring.enable_alerts:
            return False
        if alert.kind is AlertKind.FAILURE:
            return s.notifications.enable_failure_notifications and s.error_handling.enable_notifications
        return s.notifications.enable_critical_notifications

    def send(self, alert: Alert) -> list[str]:
        """Deliver to every configured channel; one failing channel does not stop the others.
        Returns the channels that took the alert."""
        if not self.wanted(alert):
            return []
        secrets = self._secrets()
        alert = Alert(
            alert.kind, redact_text(alert.title, secrets), redact_text(alert.details, secrets), alert.run_id
        )
        delivered = []
        for channel in self.settings.monitoring.alert_channels:
            try:
                {
                    AlertChannel.LOG: self._log,
                    AlertChannel.WEBHOOK: self._webhooks,
                    AlertChannel.GITHUB: self._github,
                }[channel](alert)
            except (httpx.HTTPError, OSError, ValueError) as exc:
                log.warning("alert channel %s failed: %s", channel.value, redact_text(str(exc), secrets))
                continue
            delivered.append(channel.value)
        return delivered

    def _secrets(self) -> tuple[str, ...]:
        """Every secret an alert could carry by accident: the Hub token and the channels' own."""
        found = (
            self.settings.token_value(),
            self.environ.get("GITHUB_TOKEN"),
            self.environ.get(SECRET_VARIABLE),
        )
        return tuple(s for s in found if s)

    def _log(self, alert: Alert) -> None:
        log.error("[%s] %s: %s", alert.kind.value, alert.title, alert.details)

    def _webhooks(self, alert: Alert) -> None:
        body = json.dumps({"source": "ggufsync", **asdict(alert)}).encode()
        headers = {"Content-Type": "application/json"}
        if self.settings.security.enable_request_signing:
            secret = self.environ.get(SECRET_VARIABLE)
            if not secret:
                raise ValueError(f"security.enable_request_signing is on but {SECRET_VARIABLE} is not set")
            headers[SIGNATURE_HEADER] = signature(secret, body)
        failures = []
        with httpx.Client(timeout=self.timeout, trust_env=False) as client:
            for url in self.settings.notifications.webhook_urls:
                # Every hook gets the alert even when an earlier one is down; failures are reported together.
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    failures.append(f"webhook {mask_url(url)} failed: {type(exc).__name__}: {exc}")
                    continue
                if response.is_error:
                    failures.append(f"webhook {mask_url(url)} answered {response.status_code}")
        if failures:
            raise ValueError("; ".join(failures))

    def _github(self, alert: Alert) -> None:
        repository, token = self.environ.get("GITHUB_REPOSITORY"), self.environ.get("GITHUB_TOKEN")
        if not repository or not token:
            raise ValueError("the github channel needs GITHUB_REPOSITORY and GITHUB_TOKEN")
        api = self.environ.get("GITHUB_API_URL", GITHUB_API).rstrip("/")
        issue = {
            "title": f"ggufsync {alert.kind.value}: {alert.title}",
            "body": alert.details,
            "labels": ["ggufsync"],
        }
        with httpx.Client(timeout=self.timeout, trust_env=False) as client:
            response = client.post(
                f"{api}/repos/{repository}/issues",
                json=issue,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
            )
        if response.is_error:
            raise ValueError(f"GitHub answered {response.status_code}")
