"""Keeping secrets out of everything ggufsync prints, logs or stores.

Tokens come only from the environment; webhook URLs (a Slack hook's path *is* its secret) and
anything shaped like a Hugging Face token are masked wherever a value is shown to a person.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

MASK = "****"

# Hugging Face user/org access tokens: "hf_" followed by a long alphanumeric body.
TOKEN_PATTERN = re.compile(r"\bhf_[A-Za-z0-9]{16,}\b")

_SECRET_KEY_PARTS = ("token", "secret", "password", "webhook_urls")


def looks_like_token(value: str) -> bool:
    return bool(TOKEN_PATTERN.search(value))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask every known secret and anything token-shaped in free text (logs, error messages)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return TOKEN_PATTERN.sub(MASK, text)


def mask_url(url: str) -> str:
    """Keep scheme and host (useful to tell hooks apart), hide path and query (the secret part)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return MASK
    return f"{parts.scheme}://{parts.hostname}/{MASK}"


def mask_value(path: str, value: Any) -> Any:
    """The value of a setting as it may be shown: secrets masked, structure kept."""
    if value is None:
        return None
    leaf = path.rsplit(".", 1)[-1]
    if any(part in leaf for part in _SECRET_KEY_PARTS):
        if isinstance(value, list):
            return [mask_url(str(v)) for v in value]
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [mask_value(path, v) for v in value]
    return value
