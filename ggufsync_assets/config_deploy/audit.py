"""An append-only record of every configuration action: who, what, when, which file contents.

Entries carry file hashes, never file contents or secret values, so the log itself is safe to ship
to a log collector.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ggufsync_assets.redaction import redact_text


def file_digest(path: Path) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


class AuditLog:
    """JSON lines at `path`, mode 0600; a disabled log records nothing."""

    def __init__(self, path: Path, *, enabled: bool, clock: Callable[[], datetime]) -> None:
        self.path = path
        self.enabled = enabled
        self._clock = clock

    def record(
        self,
        action: str,
        *,
        outcome: str,
        arguments: Mapping[str, Any],
        files: Mapping[str, Path],
        error: str | None = None,
    ) -> None:
        if not self.enabled:
            return
        entry = {
            "time": self._clock().astimezone(UTC).isoformat(timespec="seconds"),
            "user": _user(),
            "host": socket.gethostname(),
            "action": action,
            "arguments": {k: v for k, v in arguments.items() if v is not None},
            "outcome": outcome,
            "files": {role: {"path": str(p), "sha256": file_digest(p)} for role, p in files.items()},
        }
        if error:
            entry["error"] = redact_text(error)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]
