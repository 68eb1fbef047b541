"""Listing semantics: which repos match `/api/models` parameters, in which order, page by page.

Pages use keyset cursors like the real Hub: the cursor names the last (sort value, `_id`) returned,
so a repo edited mid-pagination moves in the order instead of shifting every later page.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ggufsync_assets.hubsim.files import HubFile
from ggufsync_assets.hubsim.hub_state import HubView
from ggufsync_assets.hubsim.repos import Repo, hub_timestamp

SortKey = Callable[[Repo], Any]
SORTS: dict[str, SortKey] = {
    "_id": lambda repo: repo.object_id,
    "lastModified": lambda repo: hub_timestamp(repo.last_modified),
    "createdAt": lambda repo: hub_timestamp(repo.created_at),
    "downloads": lambda repo: repo.downloads,
    "likes": lambda repo: repo.likes,
    "trendingScore": lambda repo: repo.trending_score,
}


class QueryError(ValueError):
    """A parameter the Hub would answer with 400 Bad Request."""


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeError) as exc:
        raise QueryError("Invalid cursor") from exc


@dataclass(frozen=True, slots=True)
class ListingParams:
    """The search part of a `/api/models` request."""

    filters: tuple[str, ...] = ()
    author: str | None = None
    search: str | None = None
    pipeline_tag: str | None = None
    gated: bool | None = None
    sort: str = "_id"
    include_private: bool = False

    def matches(self, repo: Repo) -> bool:
        if repo.private and not self.include_private:
            return False
        if self.author is not None and repo.author.lower() != self.author.lower():
            return False
        if self.search is not None and self.search.lower() not in repo.id.lower():
            return False
        if self.pipeline_tag is not None and repo.pipeline_tag != self.pipeline_tag:
            return False
        if self.gated is not None and bool(repo.gated) != self.gated:
            return False
        return all(tag in repo.tags for tag in self.filters)


def _order(view: HubView, sort: str) -> tuple[list[tuple[Any, str]], list[Repo]]:
    """Repos ascending by (sort value, _id), built once per snapshot and sort."""
    cached = view.orders.get(sort)
    if cached is None:
        key = SORTS[sort]
        repos = sorted(view.repos, key=lambda repo: (key(repo), repo.object_id))
        cached = view.orders[sort] = ([(key(repo), repo.object_id) for repo in repos], repos)
    return cached


def list_page(
    view: HubView, params: ListingParams, cursor: str | None, limit: int
) -> tuple[list[Repo], str | None]:
    """One page, always in descending order, and the cursor of the next page (None on the last)."""
    keys, repos = _order(view, params.sort)
    position = len(keys)
    if cursor is not None:
        decoded = decode_cursor(cursor)
        if not (isinstance(decoded, list) and len(decoded) == 3 and decoded[0] == params.sort):
            raise QueryError("Invalid cursor")
        position = bisect.bisect_left(keys, (decoded[1], decoded[2]))
    page: list[Repo] = []
    for index in range(position - 1, -1, -1):
        repo = repos[index]
        if not params.matches(repo):
            continue
        if len(page) == limit:
            last = page[-1]
            return page, encode_cursor([params.sort, SORTS[params.sort](last), last.object_id])
        page.append(repo)
    return page, None


@dataclass(frozen=True, slots=True)
class SimTreeEntry:
    """A `/tree` entry: a file, or a folder implied by file paths."""

    type: Literal["file", "directory"]
    path: str
    oid: str
    file: HubFile | None = None


def _folder_oid(repo: Repo, folder: str) -> str:
    """Stands in for the git tree id: changes whenever anything beneath the folder changes."""
    digest = hashlib.sha1(usedforsecurity=False)
    for hub_file in repo.files:
        if hub_file.path.startswith(f"{folder}/"):
            digest.update(f"{hub_file.path}\0{hub_file.oid}\0".encode())
    return digest.hexdigest()


def tree_entries(repo: Repo, folder: str, recursive: bool) -> list[SimTreeEntry] | None:
    """Entries under `folder` ('' for the root), sorted by path; None if there is no such folder."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    entries: dict[str, SimTreeEntry] = {}
    for hub_file in repo.files:
        if not hub_file.path.startswith(prefix):
            continue
        parts = hub_file.path[len(prefix) :].split("/")
        for depth in range(1, len(parts)):
            if depth > 1 and not recursive:
                break
            path = prefix + "/".join(parts[:depth])
            if path not in entries:
                entries[path] = SimTreeEntry("directory", path, _folder_oid(repo, path))
        if recursive or len(parts) == 1:
            entries[hub_file.path] = SimTreeEntry("file", hub_file.path, hub_file.oid, hub_file)
    if prefix and not entries:
        return None
    return [entries[path] for path in sorted(entries)]


def tree_page(
    entries: list[SimTreeEntry], cursor: str | None, limit: int
) -> tuple[list[SimTreeEntry], str | None]:
    """One page of tree entries after the cursor's path, and the next cursor (None on the last)."""
    start = 0
    if cursor is not None:
        last = decode_cursor(cursor)
        if not isinstance(last, str):
            raise QueryError("Invalid cursor")
        start = bisect.bisect_right([entry.path for entry in entries], last)
    page = entries[start : start + limit]
    if start + limit < len(entries):
        return page, encode_cursor(page[-1].path)
    return page, None
