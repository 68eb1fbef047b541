"""Parquet exports of the published catalogue, and DuckDB's memory limit from the settings."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from ggufsync_assets.catalogue.store import EXPORTED_TABLES, CatalogueStore
from ggufsync_assets.catalogue.web_exports import DOCUMENTS, PARTS, write_documents
from ggufsync_assets.defs.jobs import SYNC_JOB
from ggufsync_assets.defs.partitions import DAILY, range_tags
from ggufsync_assets.defs.resources import SyncResource
from ggufsync_tests.alerts import Receiver
from ggufsync_tests.catalogue.conftest import SYNC_1, gguf, model, models, put_files
from ggufsync_tests.instances import sync_instance

UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def codecs(path: Path) -> set[str]:
    """The compression codec of every column chunk in a Parquet file."""
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups > 0, f"{path.name} has no row groups to read a codec from"
    return {
        metadata.row_group(g).column(c).compression
        for g in range(metadata.num_row_groups)
        for c in range(metadata.num_columns)
    }


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> float:
    [(text,)] = con.execute("SELECT current_setting('memory_limit')").fetchall()
    match = re.fullmatch(r"([\d.]+)\s*(\w+)", text)
    assert match, text
    return float(match[1]) * UNITS[match[2]]


def assert_megabytes(limit: float, megabytes: int) -> None:
    """DuckDB's MB are 10**6 bytes, and it reports the limit rounded in MiB: allow either reading."""
    assert megabytes * 10**6 * 0.999 <= limit <= megabytes * 2**20 * 1.001


@pytest.fixture
def store(tmp_path: Path) -> CatalogueStore:
    """A published catalogue with rows in every exported table."""
    store = CatalogueStore(tmp_path / "data" / "catalogue.duckdb")
    with store.writer() as writer:
        writer.ensure_run("r1", mode="full", started_at=SYNC_1)
        writer.upsert_models(models(model("bartowski/Qwen2.5-7B-Instruct-GGUF")), run_id="r1", now=SYNC_1)
        put_files(
            writer,
            "bartowski/Qwen2.5-7B-Instruct-GGUF",
            gguf("bartowski/Qwen2.5-7B-Instruct-GGUF", "q4_k_m.gguf", 4_000_000_000, "Q4_K_M"),
        )
        writer.con.execute(
            "INSERT INTO rejected_records VALUES ('r1', 'x/y', 'listing', 'no sha', NULL, ?)", [SYNC_1]
        )
        writer.con.execute(
            "INSERT INTO gguf_headers (repo_id, path, architecture, bytes_read, range_requests, read_at) "
            "VALUES ('bartowski/Qwen2.5-7B-Instruct-GGUF', 'q4_k_m.gguf', 'qwen2', 262144, 1, ?)",
            [SYNC_1],
        )
        writer.finish_run("r1", status="succeeded", finished_at=SYNC_1)
    store.publish()
    return store


def parquet(written: list[Path]) -> list[Path]:
    return [path for path in written if path.suffix == ".parquet"]


def test_exports_are_zstd_compressed_when_compression_is_on(store: CatalogueStore) -> None:
    written = parquet(store.export(compress=True))
    assert sorted(p.name for p in written) == sorted(f"{t}.parquet" for t in EXPORTED_TABLES)
    for path in written:
        assert codecs(path) == {"ZSTD"}, path.name


def test_exports_are_uncompressed_when_compression_is_off(store: CatalogueStore) -> None:
    for path in parquet(store.export(compress=False)):
        assert codecs(path) == {"UNCOMPRESSED"}, path.name


def test_exports_include_every_json_document_a_website_reads(store: CatalogueStore) -> None:
    written = {p.name for p in store.export(compress=True) if p.suffix == ".json"}
    assert written == {f"{name}.json" for name in DOCUMENTS}
    assert not list(store.exports.glob("*.tmp"))


def test_the_models_document_holds_each_repo_with_its_files_and_download_urls(store: CatalogueStore) -> None:
    store.export(compress=True)
    [repo] = json.loads((store.exports / "models.json").read_text())
    assert repo["repo_id"] == "bartowski/Qwen2.5-7B-Instruct-GGUF"
    [file] = repo["files"]
    assert (file["quantization"], file["bytes"], file["parts"]) == ("Q4_K_M", 4_000_000_000, 1)
    assert file["bits_per_weight"] > 4
    [url] = file["urls"]
    assert url.startswith("https://")
    assert url.endswith("/q4_k_m.gguf")


def test_the_statistics_document_is_one_object_of_totals(store: CatalogueStore) -> None:
    store.export(compress=True)
    totals = json.loads((store.exports / "statistics.json").read_text())
    assert {k: totals[k] for k in ("repos", "files", "bytes", "authors")} == {
        "repos": 1,
        "files": 1,
        "bytes": 4_000_000_000,
        "authors": 1,
    }


def test_the_search_index_holds_each_repos_words_in_lower_case(store: CatalogueStore) -> None:
    store.export(compress=True)
    [entry] = json.loads((store.exports / "search.json").read_text())
    assert entry["id"] == "bartowski/Qwen2.5-7B-Instruct-GGUF"
    assert "qwen2.5-7b-instruct" in entry["text"]
    assert "q4_k_m" in entry["text"]


def test_exports_hold_the_published_rows(store: CatalogueStore) -> None:
    store.export(compress=True)
    assert pq.read_table(store.exports / "models.parquet").column("repo_id").to_pylist() == [
        "bartowski/Qwen2.5-7B-Instruct-GGUF"
    ]
    assert pq.read_table(store.exports / "model_files.parquet").num_rows == 1
    assert not list(store.exports.glob("*.tmp"))


def test_exporting_again_replaces_the_files(store: CatalogueStore) -> None:
    store.export(compress=True)
    store.export(compress=False)
    assert codecs(store.exports / "models.parquet") == {"UNCOMPRESSED"}


# ----- the setting, through a sync run --------------------------------------------------------------


def settings_resource(config_dir: Path, **overrides: Any) -> SyncResource:
    return SyncResource(config_dir=str(config_dir), overrides_json=json.dumps(overrides))


@pytest.mark.parametrize(("compression", "codec"), [(True, "ZSTD"), (False, "UNCOMPRESSED")])
def test_a_sync_exports_with_the_codec_performance_enable_data_compression_picks(
    receiver: Receiver, bare_config_dir: Path, tmp_path: Path, compression: bool, codec: str
) -> None:
    catalogue = tmp_path / "data" / "catalogue.duckdb"
    resource = settings_resource(
        bare_config_dir,
        **{
            "hub.endpoint": receiver.url,
            "rate_limiting.requests_per_second": 1000,
            "rate_limiting.requests_per_hour": 1_000_000,
            "error_handling.max_recovery_attempts": 0,
            "storage.catalogue_path": str(catalogue),
            "performance.enable_data_compression": compression,
        },
    )
    # Imported here: the module builds its default definitions on import, from the test's config folder.
    defs = importlib.import_module("ggufsync_assets.definitions").build_definitions(resource)
    keys = DAILY.get_partition_keys()
    with sync_instance() as instance:
        result = defs.resolve_job_def(SYNC_JOB).execute_in_process(
            instance=instance, tags=range_tags(keys[-2], keys[-1])
        )
    assert result.success
    # An empty Hub leaves only this run's sync_runs row to export.
    assert codecs(catalogue.parent / "exports" / "sync_runs.parquet") == {codec}


# ----- memory limit ----------------------------------------------------------------------------------


def test_memory_limit_mb_reaches_duckdb(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path / "catalogue.duckdb", memory_limit_mb=512).writer() as writer:
        assert_megabytes(memory_limit_bytes(writer.con), 512)


def test_without_a_memory_limit_duckdb_keeps_its_default(tmp_path: Path) -> None:
    with duckdb.connect(":memory:") as fresh:
        default = memory_limit_bytes(fresh)
    with CatalogueStore(tmp_path / "catalogue.duckdb").writer() as writer:
        assert memory_limit_bytes(writer.con) == default


def test_duckdb_gets_a_sixteenth_of_performance_memory_limit_mb(
    bare_config_dir: Path, tmp_path: Path
) -> None:
    resource = settings_resource(
        bare_config_dir,
        **{"performance.memory_limit_mb": 1024, "storage.catalogue_path": str(tmp_path / "catalogue.duckdb")},
    )
    with resource.store().writer() as writer:
        assert_megabytes(memory_limit_bytes(writer.con), 64)


def test_exports_run_within_the_memory_limit(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb", memory_limit_mb=96)
    with store.writer():
        pass
    store.publish()
    seen: list[float] = []
    real_limit = CatalogueStore._limit

    def spy(self: CatalogueStore, con: duckdb.DuckDBPyConnection) -> None:
        real_limit(self, con)
        seen.append(memory_limit_bytes(con))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CatalogueStore, "_limit", spy)
        store.export(compress=True)
    assert len(seen) == 1
    assert_megabytes(seen[0], 96)


def test_readers_of_the_published_catalogue_run_within_the_memory_limit(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb", memory_limit_mb=96)
    with store.writer():
        pass
    store.publish()
    with store.reader() as con:
        assert_megabytes(memory_limit_bytes(con), 96)


def large_catalogue(path: Path, repos: int, files_per_repo: int) -> CatalogueStore:
    """A published catalogue of `repos` repos with `files_per_repo` GGUF files each, built in SQL."""
    store = CatalogueStore(path)
    with store.writer() as writer:
        writer.con.execute(
            "INSERT INTO models (repo_id, sha, last_modified, first_seen_at, last_seen_at, last_synced_at) "
            "SELECT printf('author-%d/Model-%06d-GGUF', i % 500, i), 'sha', $now, $now, $now, $now "
            "FROM range($repos) t(i)",
            {"now": SYNC_1, "repos": repos},
        )
        writer.con.execute(
            "INSERT INTO model_files (repo_id, path, size_bytes, quantization, logical_file, is_mmproj, "
            "download_url, synced_at) "
            "SELECT m.repo_id, printf('model-%d-Q4_K_M.gguf', j), 4000000000, 'Q4_K_M', "
            "printf('model-%d-Q4_K_M.gguf', j), false, "
            "printf('https://hub.invalid/%s/resolve/main/model-%d-Q4_K_M.gguf', m.repo_id, j), $now "
            "FROM models m, range($files) f(j)",
            {"now": SYNC_1, "files": files_per_repo},
        )
    store.publish()
    return store


def test_the_models_document_written_in_parts_is_the_document_written_whole(tmp_path: Path) -> None:
    store = large_catalogue(tmp_path / "catalogue.duckdb", repos=7, files_per_repo=3)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    for folder, per_part in ((whole, 1_000), (parts, 2)):
        folder.mkdir()
        with store.reader() as con:
            write_documents(con, folder, files_per_part=per_part)
    assert (parts / "models.json").read_bytes() == (whole / "models.json").read_bytes()
    assert len(json.loads((parts / "models.json").read_text())) == 7


def test_a_part_of_the_models_document_is_whole_repos_once_the_files_before_them_reach_the_part_size(
    tmp_path: Path,
) -> None:
    store = large_catalogue(tmp_path / "catalogue.duckdb", repos=7, files_per_repo=3)
    with store.reader() as con:
        parts = con.execute(PARTS, {"per_part": 5}).fetchall()
    # Files before each repo: 0, 3, 6, 9, 12, 15, 18; a new part begins as they pass 5, 10 and 15.
    assert [(first[-9:-5], last[-9:-5]) for first, last in parts] == [
        ("0000", "0001"),
        ("0002", "0003"),
        ("0004", "0004"),
        ("0005", "0006"),
    ]


@pytest.mark.parametrize(
    ("repos", "files_per_repo"),
    [
        (60_000, 4),  # 240,000 download URLs: more than 128 MiB to aggregate in one query
        (2_000, 100),  # 200,000 in repos of 100 files: parts of a fixed number of repos ran out of memory
    ],
    ids=["many-repos", "many-files-a-repo"],
)
def test_the_models_document_of_a_large_catalogue_fits_a_small_duckdb_share(
    tmp_path: Path, repos: int, files_per_repo: int
) -> None:
    large_catalogue(tmp_path / "catalogue.duckdb", repos=repos, files_per_repo=files_per_repo)
    store = CatalogueStore(tmp_path / "catalogue.duckdb", memory_limit_mb=96)
    store.export(compress=True)
    document = json.loads((store.exports / "models.json").read_text())
    assert len(document) == repos
    assert {len(repo["files"]) for repo in document} == {files_per_repo}
