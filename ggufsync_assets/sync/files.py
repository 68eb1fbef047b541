"""From a repo's file tree to catalogue rows: one per .gguf file, and one summary per repo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import Field, StrictInt, ValidationError

from ggufsync_assets.gguf.names import describe
from ggufsync_assets.sync.records import INT64_MAX, HubModel


class Lfs(HubModel):
    oid: str | None = None
    size: StrictInt | None = Field(None, ge=0, le=INT64_MAX)


class TreeEntry(HubModel):
    type: str
    path: str
    size: StrictInt = Field(ge=0, le=INT64_MAX)
    lfs: Lfs | None = None


@dataclass(frozen=True)
class RepoFiles:
    files: list[dict[str, Any]]
    summary: dict[str, Any]
    problems: list[str]


def download_url(endpoint: str, repo_id: str, sha: str, path: str) -> str:
    return f"{endpoint}/{repo_id}/resolve/{sha}/{quote(path)}"


def repo_files(
    repo_id: str, sha: str, entries: list[dict[str, Any]], *, endpoint: str, now: datetime
) -> RepoFiles:
    """Rows for every .gguf file; entries that break the tree schema are reported, not guessed,
    and leave the summary's files_sha empty. A path listed twice is reported too: the first entry
    for it is kept."""
    files: list[dict[str, Any]] = []
    problems: list[str] = []
    paths: set[str] = set()
    byte_split: dict[str, list[dict[str, Any]]] = {}  # logical file -> its parts cut with `split`
    for raw in entries:
        try:
            entry = TreeEntry.model_validate(raw)
        except ValidationError as exc:
            problems.append(
                f"tree entry {raw.get('path') if isinstance(raw, dict) else raw!r}: {exc.errors()[0]['msg']}"
            )
            continue
        if entry.path in paths:
            problems.append(f"tree entry {entry.path}: listed more than once")
            continue
        paths.add(entry.path)
        name = describe(entry.path) if entry.type == "file" else None
        if name is None:
            continue
        row = {
            "repo_id": repo_id,
            "path": entry.path,
            "size_bytes": entry.lfs.size if entry.lfs and entry.lfs.size is not None else entry.size,
            "quantization": name.quantization,
            "split_index": name.split_index,
            "split_count": name.split_count,
            "logical_file": name.logical_file,
            "is_mmproj": name.is_mmproj,
            "is_imatrix": name.is_imatrix,
            "lfs_sha256": entry.lfs.oid if entry.lfs else None,
            "download_url": download_url(endpoint, repo_id, sha, entry.path),
            "synced_at": now,
        }
        files.append(row)
        if name.byte_split:
            byte_split.setdefault(name.logical_file, []).append(row)
    for parts in byte_split.values():  # "-split-a" names do not say how many parts there are
        for part in parts:
            part["split_count"] = part["split_count"] or len(parts)
    weights = [f for f in files if not (f["is_mmproj"] or f["is_imatrix"])]
    total = sum(f["size_bytes"] for f in files)
    if total > INT64_MAX:
        problems.append(f"tree: the .gguf files' sizes add up to {total} bytes, more than a catalogue holds")
    summary = {
        "repo_id": repo_id,
        # The file list is complete at `sha` only if every entry was readable; otherwise no sha is
        # recorded, so that the repo's tree is fetched again on the next sync.
        "files_sha": None if problems else sha,
        "quantizations": sorted({f["quantization"] for f in weights if f["quantization"]}),
        "gguf_file_count": len(files),
        "total_gguf_bytes": total if total <= INT64_MAX else None,
        "has_mmproj": any(f["is_mmproj"] for f in files),
    }
    return RepoFiles(files, summary, problems)
