"""docs/configuration.md documents every key the Settings model has, and no key it lacks."""

from __future__ import annotations

import re
from pathlib import Path

from ggufsync_assets.settings.model import key_paths

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _documented_keys() -> set[str]:
    keys: set[str] = set()
    section = ""
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^## (\w+)", line)
        if heading:
            section = "" if heading.group(1) == "Top" else heading.group(1)
            continue
        row = re.match(r"^\| `(\w+)` \|", line)
        if row and section != "Environment":
            keys.add(f"{section}.{row.group(1)}" if section else row.group(1))
    return keys


def test_every_key_is_documented() -> None:
    assert set(key_paths()) <= _documented_keys()


def test_no_documented_key_is_missing_from_the_model() -> None:
    assert _documented_keys() <= set(key_paths())
