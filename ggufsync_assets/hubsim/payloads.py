"""JSON shapes of the Hub API: which properties a listing, a model info or a tree entry carries.

Unset properties are omitted, never null, as on the Hub. With `expand`, exactly the listed properties
come back, plus `_id` and `id`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ggufsync_assets.hubsim.query import SimTreeEntry
from ggufsync_assets.hubsim.repos import Repo, hub_timestamp

EXPANDABLE: frozenset[str] = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    }
)
LISTING_FIELDS = (
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
)
LISTING_FULL_FIELDS = ("author", "sha", "lastModified", "gated", "disabled", "siblings")
INFO_FIELDS = (
    "_id",
    "id",
    "private",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "modelId",
    "author",
    "sha",
    "lastModified",
    "gated",
    "disabled",
    "config",
    "cardData",
    "gguf",
    "siblings",
    "spaces",
    "createdAt",
    "usedStorage",
)


def _siblings(repo: Repo, blobs: bool) -> list[dict[str, Any]]:
    if not blobs:
        return [{"rfilename": f.path} for f in repo.files]
    siblings = []
    for f in repo.files:
        sibling: dict[str, Any] = {"rfilename": f.path, "size": f.size, "blobId": f.oid}
        if f.is_lfs:
            sibling["lfs"] = {"sha256": f.lfs_sha256, "size": f.size, "pointerSize": f.pointer_size}
        siblings.append(sibling)
    return siblings


def _config(repo: Repo) -> dict[str, Any] | None:
    config_file = repo.file("config.json")
    if config_file is None or config_file.content is None:
        return None
    config: dict[str, Any] = json.loads(config_file.content)
    return config


_PROPERTIES: dict[str, Callable[[Repo, bool], Any]] = {
    "_id": lambda repo, _: repo.object_id,
    "id": lambda repo, _: repo.id,
    "modelId": lambda repo, _: repo.id,
    "author": lambda repo, _: repo.author,
    "sha": lambda repo, _: repo.sha,
    "lastModified": lambda repo, _: hub_timestamp(repo.last_modified),
    "createdAt": lambda repo, _: hub_timestamp(repo.created_at),
    "private": lambda repo, _: repo.private,
    "gated": lambda repo, _: repo.gated,
    "disabled": lambda repo, _: False,
    "downloads": lambda repo, _: repo.downloads,
    "downloadsAllTime": lambda repo, _: repo.downloads_all_time,
    "likes": lambda repo, _: repo.likes,
    "trendingScore": lambda repo, _: repo.trending_score,
    "tags": lambda repo, _: list(repo.tags),
    "pipeline_tag": lambda repo, _: repo.pipeline_tag,
    "library_name": lambda repo, _: repo.library_name,
    "cardData": lambda repo, _: repo.card_data,
    "config": lambda repo, _: _config(repo),
    "gguf": lambda repo, _: repo.gguf,
    "siblings": _siblings,
    "spaces": lambda repo, _: [],
    "usedStorage": lambda repo, _: sum(f.size for f in repo.files),
}


def model_payload(repo: Repo, fields: Iterable[str], *, blobs: bool = False) -> dict[str, Any]:
    """The repo's JSON object with `fields`, leaving out those unset (or not simulated)."""
    payload: dict[str, Any] = {}
    for name in fields:
        getter = _PROPERTIES.get(name)
        value = getter(repo, blobs) if getter else None
        if value is not None:
            payload[name] = value
    return payload


def tree_payload(entry: SimTreeEntry) -> dict[str, Any]:
    if entry.file is None:
        return {"type": "directory", "oid": entry.oid, "size": 0, "path": entry.path}
    payload: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.file.size, "path": entry.path}
    if entry.file.is_lfs:
        payload["lfs"] = {
            "oid": entry.file.lfs_sha256,
            "size": entry.file.size,
            "pointerSize": entry.file.pointer_size,
        }
    return payload
