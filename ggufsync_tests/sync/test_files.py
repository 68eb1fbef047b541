"""From a repo's file tree to catalogue rows: one per .gguf file, and one summary per repo."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ggufsync_assets.gguf.names import describe
from ggufsync_assets.sync.files import RepoFiles, repo_files

REPO = "unsloth/gemma-3-4b-it-GGUF"
SHA = "0123456789abcdef0123456789abcdef01234567"
ENDPOINT = "https://hub.example"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def lfs(path: str, size: int, oid: str = "f" * 64) -> dict[str, Any]:
    """An LFS file entry: `size` of the stored object in lfs.size (the entry's own size is the Hub's)."""
    return {"type": "file", "oid": "1" * 40, "size": size, "path": path, "lfs": {"oid": oid, "size": size}}


def small(path: str, size: int = 100) -> dict[str, Any]:
    return {"type": "file", "oid": "2" * 40, "size": size, "path": path}


def folder(path: str) -> dict[str, Any]:
    return {"type": "directory", "oid": "3" * 40, "size": 0, "path": path}


TREE = [
    small(".gitattributes"),
    small("README.md"),
    folder("Q8_0"),
    lfs("Q8_0/gemma-3-4b-it-Q8_0-00001-of-00002.gguf", 2_000, "a" * 64),
    lfs("Q8_0/gemma-3-4b-it-Q8_0-00002-of-00002.gguf", 1_500, "b" * 64),
    lfs("gemma-3-4b-it-Q4_K_M.gguf", 2_500, "c" * 64),
    lfs("gemma-3-4b-it-UD-Q4_K_XL.gguf", 2_600, "d" * 64),
    lfs("mmproj-F16.gguf", 800, "e" * 64),
    lfs("gemma-3-4b-it.imatrix", 300),
]


def read(entries: list[Any], sha: str = SHA) -> RepoFiles:
    return repo_files(REPO, sha, entries, endpoint=ENDPOINT, now=NOW)


def by_path(found: RepoFiles) -> dict[str, dict[str, Any]]:
    return {row["path"]: row for row in found.files}


def test_only_gguf_files_become_rows() -> None:
    assert sorted(by_path(read(TREE))) == [
        "Q8_0/gemma-3-4b-it-Q8_0-00001-of-00002.gguf",
        "Q8_0/gemma-3-4b-it-Q8_0-00002-of-00002.gguf",
        "gemma-3-4b-it-Q4_K_M.gguf",
        "gemma-3-4b-it-UD-Q4_K_XL.gguf",
        "mmproj-F16.gguf",
    ]


def test_a_folder_named_like_a_gguf_file_is_no_file() -> None:
    assert read([folder("weights.gguf"), small("weights.gguf/notes.txt")]).files == []


def test_sizes_come_from_the_lfs_object() -> None:
    entry = {
        "type": "file",
        "oid": "1" * 40,
        "size": 134,
        "path": "m-Q4_K_M.gguf",
        "lfs": {"oid": "a" * 64, "size": 4_000},
    }
    assert by_path(read([entry]))["m-Q4_K_M.gguf"]["size_bytes"] == 4_000


def test_a_file_outside_lfs_keeps_its_own_size() -> None:
    row = by_path(read([small("tiny-F32.gguf", 96)]))["tiny-F32.gguf"]
    assert (row["size_bytes"], row["lfs_sha256"]) == (96, None)


def test_the_lfs_sha256_is_kept() -> None:
    assert by_path(read(TREE))["gemma-3-4b-it-Q4_K_M.gguf"]["lfs_sha256"] == "c" * 64


@pytest.mark.parametrize("entry", [e for e in TREE if e["path"].endswith(".gguf")], ids=lambda e: e["path"])
def test_split_logical_file_projector_and_quantization_come_from_the_name(entry: dict[str, Any]) -> None:
    row = by_path(read(TREE))[entry["path"]]
    name = describe(entry["path"])
    assert name is not None
    assert (
        row["quantization"],
        row["split_index"],
        row["split_count"],
        row["logical_file"],
        row["is_mmproj"],
    ) == (
        name.quantization,
        name.split_index,
        name.split_count,
        name.logical_file,
        name.is_mmproj,
    )


def test_split_parts_share_their_logical_file() -> None:
    rows = by_path(read(TREE))
    first = rows["Q8_0/gemma-3-4b-it-Q8_0-00001-of-00002.gguf"]
    second = rows["Q8_0/gemma-3-4b-it-Q8_0-00002-of-00002.gguf"]
    assert first["logical_file"] == second["logical_file"] == "Q8_0/gemma-3-4b-it-Q8_0.gguf"
    assert (first["split_index"], second["split_index"], first["split_count"]) == (1, 2, 2)
    assert rows["mmproj-F16.gguf"]["is_mmproj"]


def test_the_download_url_pins_the_commit_and_quotes_the_path() -> None:
    rows = by_path(read([lfs("Q8_0/model Q8_0.gguf", 10)]))
    assert (
        rows["Q8_0/model Q8_0.gguf"]["download_url"]
        == f"{ENDPOINT}/{REPO}/resolve/{SHA}/Q8_0/model%20Q8_0.gguf"
    )


def test_every_row_belongs_to_the_repo_and_the_sync() -> None:
    for row in read(TREE).files:
        assert (row["repo_id"], row["synced_at"]) == (REPO, NOW)


def test_the_summary_describes_the_repos_gguf_files() -> None:
    assert read(TREE).summary == {
        "repo_id": REPO,
        "files_sha": SHA,
        "quantizations": ["Q4_K_M", "Q8_0", "UD-Q4_K_XL"],  # the projector's F16 is no model quantization
        "gguf_file_count": 5,
        "total_gguf_bytes": 2_000 + 1_500 + 2_500 + 2_600 + 800,
        "has_mmproj": True,
    }


def test_parts_cut_with_split_are_one_logical_file_of_as_many_parts() -> None:
    found = read(
        [
            lfs("falcon-180b-chat.Q8_0.gguf-split-a", 40_000),
            lfs("falcon-180b-chat.Q8_0.gguf-split-b", 40_000),
            lfs("falcon-180b-chat.Q8_0.gguf-split-c", 10_000),
            lfs("falcon-180b-chat.Q4_K_M.gguf", 50_000),
        ]
    )
    parts = [row for row in found.files if row["logical_file"] == "falcon-180b-chat.Q8_0.gguf"]
    assert [(row["split_index"], row["split_count"]) for row in parts] == [(1, 3), (2, 3), (3, 3)]
    assert found.summary["quantizations"] == ["Q4_K_M", "Q8_0"]
    assert (found.summary["gguf_file_count"], found.summary["total_gguf_bytes"]) == (4, 140_000)


def test_an_importance_matrix_counts_as_a_gguf_file_but_not_as_weights() -> None:
    found = read([lfs("Model-Q8_0.imatrix.gguf", 300), lfs("Model-Q4_K_M.gguf", 2_500)])
    assert [row["is_imatrix"] for row in found.files] == [True, False]
    assert found.summary["quantizations"] == ["Q4_K_M"]
    assert (found.summary["gguf_file_count"], found.summary["has_mmproj"]) == (2, False)


def test_a_repo_without_gguf_files_has_an_empty_summary() -> None:
    found = read([small("README.md")])
    assert found.files == []
    assert found.summary == {
        "repo_id": REPO,
        "files_sha": SHA,
        "quantizations": [],
        "gguf_file_count": 0,
        "total_gguf_bytes": 0,
        "has_mmproj": False,
    }


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ({"type": "file", "size": 10}, "tree entry None"),
        (
            {"type": "file", "path": "broken-Q4_K_M.gguf", "size": "unknown"},
            "tree entry 'broken-Q4_K_M.gguf'",
        ),
        ({"type": "file", "path": "negative-Q4_K_M.gguf", "size": -1}, "tree entry 'negative-Q4_K_M.gguf'"),
        ("not-an-entry", "tree entry 'not-an-entry'"),
    ],
    ids=["missing-path", "size-not-a-number", "negative-size", "not-an-object"],
)
def test_an_unreadable_tree_entry_is_reported_as_a_problem(entry: Any, shown: str) -> None:
    found = read([*TREE, entry])
    assert len(found.problems) == 1
    assert found.problems[0].startswith(shown)
    assert len(found.files) == 5  # the readable entries still count


def test_a_tree_with_a_problem_is_not_recorded_as_complete_at_its_sha() -> None:
    """Its files_sha stays empty, so the next sync fetches the tree again."""
    assert read([*TREE, {"type": "file", "size": 10}]).summary["files_sha"] is None
    assert read(TREE).summary["files_sha"] == SHA
