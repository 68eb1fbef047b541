"""A simulated model repo at one commit, and the Hub's timestamp conventions for its dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ggufsync_assets.hubsim.files import HubFile
from ggufsync_assets.hubsim.publishers import Recipe

Gated = Literal[False, "auto", "manual"]


def hub_timestamp(moment: datetime) -> str:
    """The Hub's timestamp format: UTC, milliseconds, `Z` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_millis(moment: datetime) -> datetime:
    """Drop what the Hub's timestamps cannot carry, so that dates survive a round trip unchanged."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Repo:
    """A model repo at one commit, with every property the Hub API can return for it."""

    id: str
    object_id: str
    sha: str
    created_at: datetime
    last_modified: datetime
    files: tuple[HubFile, ...]
    tags: tuple[str, ...]
    downloads: int = 0
    downloads_all_time: int = 0
    likes: int = 0
    trending_score: int = 0
    gated: Gated = False
    private: bool = False
    pipeline_tag: str | None = None
    library_name: str | None = None
    card_data: dict[str, Any] | None = None
    gguf: dict[str, Any] | None = None
    recipe: Recipe | None = field(default=None, compare=False, repr=False)

    def __hash__(self) -> int:
        """A commit is identified by repo and sha (card data is a dict, which cannot be hashed)."""
        return hash((self.id, self.sha))

    @property
    def author(self) -> str:
        return self.id.split("/", 1)[0]

    def file(self, path: str) -> HubFile | None:
        return next((f for f in self.files if f.path == path), None)
