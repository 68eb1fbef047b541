"""Where requests may go and where the token may go.

The token is attached only to the configured endpoint's own origin (scheme, host and port), never
to a redirect target or a CDN host; any URL whose host is outside security.allowed_domains (the
endpoint host is always allowed) is refused before a byte is sent.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ggufsync_assets.hub.errors import HubRefused
from ggufsync_assets.redaction import MASK, redact_text


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class UrlPolicy:
    def __init__(self, endpoint: str, allowed_domains: list[str], *, mask_urls: bool = True) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._endpoint_origin = _origin(self.endpoint)
        self._domains = [d.lower() for d in allowed_domains]
        self._mask_urls = mask_urls

    def is_allowed(self, url: str) -> bool:
        scheme, host, _ = _origin(url)
        if scheme not in ("http", "https") or not host:
            return False
        if host == self._endpoint_origin[1]:
            return True
        return any(host == d or host.endswith(f".{d}") for d in self._domains)

    def check(self, url: str) -> None:
        if not self.is_allowed(url):
            host = urlsplit(url).hostname or url
            raise HubRefused(
                f"refused to contact {host}: not the endpoint host and not in security.allowed_domains"
            )

    def may_carry_token(self, url: str) -> bool:
        return _origin(url) == self._endpoint_origin

    def show(self, url: str, secrets: tuple[str, ...] = ()) -> str:
        """A URL as it may appear in logs and errors: query strings of other hosts (CDN signatures)
        are masked when security.mask_sensitive_data is on; tokens always are."""
        parts = urlsplit(url)
        if self._mask_urls and parts.query and not self.may_carry_token(url):
            url = urlunsplit(parts._replace(query=MASK))
        return redact_text(url, secrets)
