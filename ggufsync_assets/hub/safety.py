"""Where requests may go and where the token may go.

The token is attached only to the configured endpoint's own origin (scheme, host and port), never
to a redirect target or a CDN host; any URL whose host is outside security.allowed_domains (the
endpoint host is always allowed) is refused before a byte is sent; so is a URL that does not parse
(a port that is not a number, or out of range), as HubRefused like any other refusal.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ggufsync_assets.hub.errors import HubRefused
from ggufsync_assets.redaction import MASK, redact_text
from ggufsync_assets.settings import Settings

Origin = tuple[str, str, int | None]

HUB_FILES_DOMAIN = "hf.co"
HUB_FILE_HOSTS = tuple(
    f"{host}.{HUB_FILES_DOMAIN}" for host in ("cas-bridge.xethub", "cdn-lfs", "cdn-lfs-us-1")
)
"""Where huggingface.co's resolve URLs send a file's bytes: its Xet bridge and its LFS CDNs."""


def _origin(url: str) -> Origin | None:
    """(scheme, host, port) of a URL, the scheme's port when none is given; None if it does not parse."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    return parts.scheme, (parts.hostname or "").lower(), port


def _host(url: str) -> str:
    """The host to name in a refusal; without one, the URL up to its query (which may be signed)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return redact_text(host or url.split("?", 1)[0].split("#", 1)[0])


class UrlPolicy:
    def __init__(self, endpoint: str, allowed_domains: list[str], *, mask_urls: bool = True) -> None:
        self.endpoint = endpoint.rstrip("/")
        origin = _origin(self.endpoint)
        if origin is None:
            raise ValueError(f"not a valid endpoint URL: {redact_text(self.endpoint)}")
        self._endpoint_origin = origin
        self._domains = [d.lower() for d in allowed_domains]
        self._mask_urls = mask_urls

    def is_allowed(self, url: str) -> bool:
        origin = _origin(url)
        if origin is None:
            return False
        scheme, host, _ = origin
        if scheme not in ("http", "https") or not host:
            return False
        if host == self._endpoint_origin[1]:
            return True
        return any(host == d or host.endswith(f".{d}") for d in self._domains)

    def check(self, url: str) -> None:
        if _origin(url) is None:
            raise HubRefused(f"refused to contact {_host(url)}: not a valid URL")
        if not self.is_allowed(url):
            raise HubRefused(
                f"refused to contact {_host(url)}: not the endpoint host and not in security.allowed_domains"
            )

    def may_carry_token(self, url: str) -> bool:
        return _origin(url) == self._endpoint_origin

    def show(self, url: str, secrets: tuple[str, ...] = ()) -> str:
        """A URL as it may appear in logs and errors: query strings of other hosts (CDN signatures)
        are masked when security.mask_sensitive_data is on; tokens always are."""
        if _origin(url) is None:
            return MASK  # what does not parse cannot be masked part by part
        parts = urlsplit(url)
        if self._mask_urls and parts.query and not self.may_carry_token(url):
            url = urlunsplit(parts._replace(query=MASK))
        return redact_text(url, secrets)


def refused_file_hosts(endpoint: str, allowed_domains: list[str]) -> list[str]:
    """The Hub's file hosts that these settings would refuse, for the public Hub's endpoint (a
    mirror's or a simulator's file hosts are its own): with any of them refused, header reads and
    file verification cannot fetch a byte."""
    origin = _origin(endpoint)
    if origin is None or origin[1] not in ("huggingface.co", "hf.co"):
        return []
    policy = UrlPolicy(endpoint, allowed_domains)
    return [host for host in HUB_FILE_HOSTS if not policy.is_allowed(f"https://{host}/")]


def file_hosts_warning(settings: Settings) -> str | None:
    """What to tell an operator whose settings read files (headers, verification) from hosts their
    security.allowed_domains leaves out."""
    if not (settings.gguf_headers.read or settings.validation.enable_file_verification):
        return None
    refused = refused_file_hosts(settings.hub.endpoint, settings.security.allowed_domains)
    if not refused:
        return None
    return (
        f"security.allowed_domains does not cover {', '.join(refused)}, where the Hub serves file "
        f'downloads: GGUF header reads and file verification will be refused; add "{HUB_FILES_DOMAIN}"'
    )
