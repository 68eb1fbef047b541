"""What can go wrong talking to the Hub, as errors a caller can tell apart."""

from __future__ import annotations


class HubError(Exception):
    """Base of every Hub failure; messages never carry the token or signed URL parameters."""


class HubRefused(HubError):
    """The client refused to send a request (a host outside security.allowed_domains)."""


class HubResponseError(HubError):
    """The Hub answered with an error that retrying will not fix, or retries ran out."""

    def __init__(self, message: str, status: int | None = None, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class HubNotFound(HubResponseError):
    """The repository, revision or file does not exist (or is private and not ours)."""


class RetryableHubError(HubError):
    """A transient failure (429, 5xx, timeout, dropped connection, truncated or malformed body)."""

    def __init__(self, message: str, status: int | None = None, wait_hint: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.wait_hint = wait_hint
