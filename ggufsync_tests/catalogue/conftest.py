"""Catalogue rows built by hand, a store in a temporary folder, and a way to read it back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from ggufsync_assets.catalogue.contract import FILE_FRAME, MODEL_FRAME, SUMMARY_FRAME
from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter

SYNC_1 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SYNC_2 = SYNC_1 + timedelta(days=1)
SYNC_3 = SYNC_1 + timedelta(days=2)
SHA_A = "a" * 40
SHA_B = "b" * 40


def model(repo_id: str, *, seen: datetime = SYNC_1, **overrides: Any) -> dict[str, Any]:
    """A listing row as the sync writes it, seen by the sync at `seen`."""
    row: dict[str, Any] = {
        "repo_id": repo_id,
        "author": repo_id.split("/", 1)[0],
        "sha": SHA_A,
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "last_modified": datetime(2025, 5, 1, tzinfo=UTC),
        "downloads": 10,
        "likes": 1,
        "gated": False,
        "gated_mode": None,
        "pipeline_tag": "text-generation",
        "library_name": "gguf",
        "license": "apache-2.0",
        "base_models": ["Qwen/Qwen2.5-7B-Instruct"],
        "tags": ["gguf"],
        "has_card": True,
        "architecture": "qwen2",
        "parameter_count": 7_615_616_512,
        "context_length": 32_768,
        "discovery_methods": ["tag"],
        "listing_fixes": [],
        "last_seen_at": seen,
        "last_synced_at": seen,
    }
    row.update(overrides)
    return row


def models(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=MODEL_FRAME)


def gguf(
    repo_id: str,
    path: str,
    size: int,
    quantization: str | None,
    *,
    logical_file: str | None = None,
    split: tuple[int, int] | None = None,
    is_mmproj: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "repo_id": repo_id,
        "path": path,
        "size_bytes": size,
        "quantization": quantization,
        "split_index": split[0] if split else None,
        "split_count": split[1] if split else None,
        "logical_file": logical_file or path,
        "is_mmproj": is_mmproj,
        "lfs_sha256": None,
        "download_url": f"https://hub.example/{repo_id}/resolve/{SHA_A}/{path}",
        "header_ok": None,
        "synced_at": SYNC_1,
    }
    row.update(overrides)
    return row


def files(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FILE_FRAME)


def summary_of(repo_id: str, file_rows: list[dict[str, Any]], files_sha: str = SHA_A) -> dict[str, Any]:
    weights = [f for f in file_rows if not f["is_mmproj"]]
    return {
        "repo_id": repo_id,
        "files_sha": files_sha,
        "quantizations": sorted({f["quantization"] for f in weights if f["quantization"]}),
        "gguf_file_count": len(file_rows),
        "total_gguf_bytes": sum(f["size_bytes"] or 0 for f in file_rows),
        "has_mmproj": len(weights) < len(file_rows),
    }


def summaries(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=SUMMARY_FRAME)


def put_files(writer: CatalogueWriter, repo_id: str, *file_rows: dict[str, Any], sha: str = SHA_A) -> None:
    """Replace a repo's files and summary, as a file refresh does."""
    writer.replace_files(files(*file_rows), summaries(summary_of(repo_id, list(file_rows), sha)))


def publish_repos(store: CatalogueStore, *repo_ids: str) -> None:
    """Add these repos (one GGUF file each) to the working file and publish it."""
    with store.writer() as writer:
        writer.upsert_models(models(*(model(r) for r in repo_ids)), run_id="r1", now=SYNC_1)
        for repo_id in repo_ids:
            put_files(writer, repo_id, gguf(repo_id, "model-Q4_K_M.gguf", 1000, "Q4_K_M"))
    store.publish()


def rows(con: duckdb.DuckDBPyConnection | CatalogueWriter, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    connection = con.con if isinstance(con, CatalogueWriter) else con
    return connection.sql(sql, params=list(params) or None).fetchall()


@pytest.fixture
def store(tmp_path: Path) -> CatalogueStore:
    return CatalogueStore(tmp_path / "catalogue.duckdb", chunk_size=2)


@pytest.fixture
def writer(store: CatalogueStore) -> Iterator[CatalogueWriter]:
    with store.writer() as opened:
        yield opened
