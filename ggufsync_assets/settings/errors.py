"""One clear message per configuration mistake: where it came from, which key, what value, what is allowed."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ggufsync_assets.redaction import mask_value
from ggufsync_assets.settings.model import SECTIONS, Settings


@dataclass(frozen=True)
class Problem:
    source: str
    path: str
    message: str
    value: Any = None
    show_value: bool = True

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        if not self.path:
            return f"{where}{self.message}"
        key = self.path
        if self.show_value:
            shown = json.dumps(mask_value(self.path, self.value), default=str)
            return f"{where}{key} = {shown}: {self.message}"
        return f"{where}{key}: {self.message}"


class ConfigError(Exception):
    """Raised for any invalid configuration; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def suggest(name: str, candidates: Iterable[str]) -> str:
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model whose fields an error location's last element belongs to."""
    if len(loc) <= 1:
        return Settings
    return SECTIONS.get(str(loc[0])) if len(loc) == 2 else None


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems_from_validation(error: ValidationError, origin_of: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors():
        loc = tuple(item["loc"])
        path = _dotted(loc)
        source = _origin(path, origin_of)
        if item["type"] == "extra_forbidden":
            model = _model_at(loc)
            siblings = list(model.model_fields) if model else []
            problems.append(
                Problem(source, path, "unknown key" + suggest(str(loc[-1]), siblings), show_value=False)
            )
            continue
        message = str(item["msg"]).removeprefix("Value error, ")
        is_model_level = item["type"] == "value_error" and (not loc or str(loc[-1]) in SECTIONS)
        problems.append(Problem(source, path, message, item.get("input"), show_value=not is_model_level))
    return problems


def _origin(path: str, origin_of: Mapping[str, str]) -> str:
    """The layer that set a key, or the nearest enclosing key; 'default' when nobody set it."""
    probe = path.split("[", 1)[0]
    while probe:
        if probe in origin_of:
            return origin_of[probe]
        probe = probe.rpartition(".")[0]
    section_sources = {src for key, src in origin_of.items() if key.startswith(f"{path}.")}
    if len(section_sources) == 1:
        return section_sources.pop()
    return ", ".join(sorted(section_sources)) if section_sources else "default"
