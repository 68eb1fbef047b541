"""Alerts: which ones go out, what each channel sends, signing, and channels failing on their own."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from ggufsync_assets.alerts import SIGNATURE_HEADER, Alert, AlertKind, Notifier
from ggufsync_assets.settings import Settings
from ggufsync_tests.alerts import Receiver, running_receiver

SECRET = "webhook-signing-secret"
HF_TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWx0123"
GITHUB_TOKEN = "github-actions-token-value"
REPOSITORY = "example-org/gguf-catalogue"
FAILURE = Alert(
    AlertKind.FAILURE, "sync run 1234abcd failed", "listing: the Hub answered 503", "1234abcd-run"
)
CRITICAL = Alert(
    AlertKind.CRITICAL, "blocking check failed: no_duplicate_keys", "2 duplicate repo ids", "r-2"
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


@pytest.fixture
def alert_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="ggufsync.alerts")
    return caplog


def settings(
    channels: list[str],
    webhook_urls: list[str] | None = None,
    *,
    alerts: bool = True,
    failure: bool = True,
    error_handling: bool = True,
    critical: bool = True,
    signing: bool = False,
) -> Settings:
    return Settings(
        monitoring={"enable_alerts": alerts, "alert_channels": channels},
        notifications={
            "enable_failure_notifications": failure,
            "enable_critical_notifications": critical,
            "webhook_urls": webhook_urls or [],
        },
        error_handling={"enable_notifications": error_handling},
        security={"enable_request_signing": signing},
    )


def github_environ(receiver: Receiver, **overrides: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "GITHUB_API_URL": receiver.url,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        **overrides,
    }
    return {k: v for k, v in values.items() if v is not None}


def error_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ggufsync.alerts" and r.levelno == logging.ERROR]


def warning_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        r.getMessage() for r in caplog.records if r.name == "ggufsync.alerts" and r.levelno == logging.WARNING
    )


# ----- which alerts go out -------------------------------------------------------------------


@pytest.mark.parametrize("alert", [FAILURE, CRITICAL], ids=["failure", "critical"])
def test_nothing_is_sent_while_alerts_are_off(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture, alert: Alert
) -> None:
    notifier = Notifier(settings(["log", "webhook"], [f"{receiver.url}/hook"], alerts=False), environ={})
    assert notifier.send(alert) == []
    assert receiver.requests == []
    assert alert_log.records == []


@pytest.mark.parametrize(
    ("failure", "error_handling"),
    [(False, True), (True, False), (False, False)],
    ids=["notifications", "errors", "both"],
)
def test_failure_alerts_need_both_failure_flags(
    receiver: Receiver, failure: bool, error_handling: bool
) -> None:
    notifier = Notifier(
        settings(["webhook"], [f"{receiver.url}/hook"], failure=failure, error_handling=error_handling),
        environ={},
    )
    assert notifier.send(FAILURE) == []
    assert receiver.requests == []


def test_failure_alerts_go_out_when_both_failure_flags_are_on(receiver: Receiver) -> None:
    notifier = Notifier(settings(["webhook"], [f"{receiver.url}/hook"], critical=False), environ={})
    assert notifier.send(FAILURE) == ["webhook"]
    assert len(receiver.posts()) == 1


def test_critical_alerts_need_critical_notifications(receiver: Receiver) -> None:
    notifier = Notifier(settings(["webhook"], [f"{receiver.url}/hook"], critical=False), environ={})
    assert notifier.send(CRITICAL) == []
    assert receiver.requests == []


def test_critical_alerts_go_out_without_the_failure_flags(receiver: Receiver) -> None:
    notifier = Notifier(
        settings(["webhook"], [f"{receiver.url}/hook"], failure=False, error_handling=False), environ={}
    )
    assert notifier.send(CRITICAL) == ["webhook"]
    assert receiver.posts()[0].json()["kind"] == "critical"


# ----- webhook ---------------------------------------------------------------------------------


def test_webhook_posts_the_alert_as_json(receiver: Receiver) -> None:
    Notifier(settings(["webhook"], [f"{receiver.url}/hooks/ops"]), environ={}).send(FAILURE)
    [post] = receiver.posts()
    assert post.path == "/hooks/ops"
    assert post.header("Content-Type") == "application/json"
    assert post.json() == {
        "source": "ggufsync",
        "kind": "failure",
        "title": FAILURE.title,
        "details": FAILURE.details,
        "run_id": FAILURE.run_id,
    }


def test_every_webhook_url_gets_the_alert(receiver: Receiver) -> None:
    urls = [f"{receiver.url}/first", f"{receiver.url}/second"]
    assert Notifier(settings(["webhook"], urls), environ={}).send(FAILURE) == ["webhook"]
    assert [p.path for p in receiver.posts()] == ["/first", "/second"]


def test_signed_webhook_carries_the_hmac_sha256_of_the_exact_body(receiver: Receiver) -> None:
    notifier = Notifier(
        settings(["webhook"], [f"{receiver.url}/hook"], signing=True),
        environ={"GGUFSYNC_WEBHOOK_SECRET": SECRET},
    )
    assert notifier.send(FAILURE) == ["webhook"]
    [post] = receiver.posts()
    expected = "sha256=" + hmac.new(SECRET.encode(), post.body, hashlib.sha256).hexdigest()
    assert post.header(SIGNATURE_HEADER) == expected


def test_unsigned_webhook_has_no_signature_header(receiver: Receiver) -> None:
    notifier = Notifier(
        settings(["webhook"], [f"{receiver.url}/hook"], signing=False),
        environ={"GGUFSYNC_WEBHOOK_SECRET": SECRET},
    )
    notifier.send(FAILURE)
    [post] = receiver.posts()
    assert post.header(SIGNATURE_HEADER) is None


def test_signing_without_the_secret_fails_the_webhook_but_not_the_other_channels(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(
        settings(["webhook", "github", "log"], [f"{receiver.url}/hook"], signing=True),
        environ=github_environ(receiver),
    )
    assert notifier.send(FAILURE) == ["github", "log"]
    assert receiver.posts("/hook") == []
    assert len(receiver.posts(f"/repos/{REPOSITORY}/issues")) == 1
    assert "GGUFSYNC_WEBHOOK_SECRET" in warning_text(alert_log)
    assert len(error_lines(alert_log)) == 1


def test_a_webhook_answering_500_is_reported_failed_without_raising(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture
) -> None:
    receiver.post_status = 500
    notifier = Notifier(settings(["webhook", "log"], [f"{receiver.url}/hook"]), environ={})
    assert notifier.send(FAILURE) == ["log"]
    assert len(receiver.posts()) == 1
    assert "answered 500" in warning_text(alert_log)


def test_an_unreachable_webhook_is_reported_failed_without_raising(
    alert_log: pytest.LogCaptureFixture,
) -> None:
    with running_receiver() as gone:
        url = f"{gone.url}/hook"
    notifier = Notifier(settings(["webhook", "log"], [url]), environ={})
    assert notifier.send(FAILURE) == ["log"]
    assert "alert channel webhook failed" in warning_text(alert_log)


def test_a_failing_webhook_does_not_keep_the_alert_from_the_next_one(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture
) -> None:
    receiver.statuses["/down"] = 503
    notifier = Notifier(settings(["webhook"], [f"{receiver.url}/down", f"{receiver.url}/up"]), environ={})
    assert notifier.send(FAILURE) == []
    assert [p.path for p in receiver.posts()] == ["/down", "/up"]
    assert "answered 503" in warning_text(alert_log)


def test_a_failed_webhook_is_logged_without_its_secret_path(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture
) -> None:
    receiver.post_status = 404
    Notifier(settings(["webhook"], [f"{receiver.url}/services/T0/B0/secretpart"]), environ={}).send(FAILURE)
    logged = warning_text(alert_log)
    assert "answered 404" in logged
    assert "secretpart" not in logged


# ----- github ----------------------------------------------------------------------------------


def test_github_channel_opens_an_issue_with_the_bearer_token(receiver: Receiver) -> None:
    notifier = Notifier(settings(["github"]), environ=github_environ(receiver))
    assert notifier.send(FAILURE) == ["github"]
    [post] = receiver.posts()
    assert post.path == f"/repos/{REPOSITORY}/issues"
    assert post.header("Authorization") == f"Bearer {GITHUB_TOKEN}"
    assert post.json() == {
        "title": f"ggufsync failure: {FAILURE.title}",
        "body": FAILURE.details,
        "labels": ["ggufsync"],
    }


@pytest.mark.parametrize("missing", ["GITHUB_REPOSITORY", "GITHUB_TOKEN"])
def test_github_channel_without_its_environment_fails_cleanly(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture, missing: str
) -> None:
    notifier = Notifier(settings(["github", "log"]), environ=github_environ(receiver, **{missing: None}))
    assert notifier.send(FAILURE) == ["log"]
    assert receiver.requests == []
    assert "GITHUB_REPOSITORY and GITHUB_TOKEN" in warning_text(alert_log)


def test_github_answering_an_error_is_reported_failed(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture
) -> None:
    receiver.post_status = 401
    assert Notifier(settings(["github"]), environ=github_environ(receiver)).send(FAILURE) == []
    assert "GitHub answered 401" in warning_text(alert_log)


# ----- log -------------------------------------------------------------------------------------


def test_log_channel_logs_the_alert_at_error_level(alert_log: pytest.LogCaptureFixture) -> None:
    assert Notifier(settings(["log"]), environ={}).send(CRITICAL) == ["log"]
    [record] = error_lines(alert_log)
    assert record.getMessage() == f"[critical] {CRITICAL.title}: {CRITICAL.details}"


# ----- secrets ---------------------------------------------------------------------------------


def test_a_token_in_the_details_is_redacted_in_every_channel(
    receiver: Receiver, alert_log: pytest.LogCaptureFixture
) -> None:
    alert = Alert(AlertKind.FAILURE, f"failed with {HF_TOKEN}", f"401 for token {HF_TOKEN}", "r-3")
    notifier = Notifier(
        settings(["log", "webhook", "github"], [f"{receiver.url}/hook"]), environ=github_environ(receiver)
    )
    assert notifier.send(alert) == ["log", "webhook", "github"]
    sent: list[Any] = [post.body.decode() for post in receiver.posts()]
    sent += [r.getMessage() for r in alert_log.records]
    assert len(sent) == 3
    for text in sent:
        assert HF_TOKEN not in text
        assert "****" in text


def test_the_channels_own_secrets_are_redacted_from_alerts(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(monitoring={"enable_alerts": True, "alert_channels": ["log"]})
    notifier = Notifier(
        settings, environ={"GITHUB_TOKEN": "ghp_plainsecret", "GGUFSYNC_WEBHOOK_SECRET": "s3cret-key"}
    )
    caplog.set_level(logging.ERROR, logger="ggufsync.alerts")
    notifier.send(Alert(AlertKind.CRITICAL, "leak ghp_plainsecret", "and s3cret-key too"))
    assert "ghp_plainsecret" not in caplog.text
    assert "s3cret-key" not in caplog.text
