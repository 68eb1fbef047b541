"""`ggufsync query`: read-only SQL on the published catalogue, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_assets.cli.main import main
from ggufsync_tests.catalogue.conftest import SYNC_1, gguf, model, models, put_files

Query = Callable[..., tuple[int, str, str]]
GIB = 1024**3


@pytest.fixture
def published(tmp_path: Path) -> Path:
    """A published catalogue of two repos: one with two quantizations, one with one split across two parts."""
    store = CatalogueStore(tmp_path / "data" / "catalogue.duckdb")
    with store.writer() as writer:
        writer.upsert_models(
            models(model("bartowski/Qwen2.5-7B-Instruct-GGUF"), model("unsloth/Big-GGUF", license=None)),
            run_id="r1",
            now=SYNC_1,
        )
        put_files(
            writer,
            "bartowski/Qwen2.5-7B-Instruct-GGUF",
            gguf("bartowski/Qwen2.5-7B-Instruct-GGUF", "q4_k_m.gguf", 4 * GIB, "Q4_K_M"),
            gguf("bartowski/Qwen2.5-7B-Instruct-GGUF", "q8_0.gguf", 8 * GIB, "Q8_0"),
        )
        put_files(
            writer,
            "unsloth/Big-GGUF",
            gguf(
                "unsloth/Big-GGUF",
                "q4-00001-of-00002.gguf",
                3 * GIB,
                "Q4_K_M",
                logical_file="q4",
                split=(1, 2),
            ),
            gguf(
                "unsloth/Big-GGUF",
                "q4-00002-of-00002.gguf",
                3 * GIB,
                "Q4_K_M",
                logical_file="q4",
                split=(2, 2),
            ),
        )
    store.publish()
    return store.published


@pytest.fixture
def query(capsys: pytest.CaptureFixture[str], published: Path) -> Query:
    def run(sql: str, *options: str, catalogue: Path | None = published) -> tuple[int, str, str]:
        where = ["--catalogue", str(catalogue)] if catalogue else []
        code = main(["query", sql, *options, *where])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


REPOS = "SELECT repo_id, license, gguf_file_count FROM models ORDER BY repo_id"


def test_table_output_shows_a_header_a_rule_every_row_and_the_count(query: Query) -> None:
    code, out, err = query(REPOS)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["repo_id", "license", "gguf_file_count"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["bartowski/Qwen2.5-7B-Instruct-GGUF", "apache-2.0", "2"]
    assert lines[3].split() == ["unsloth/Big-GGUF", "NULL", "2"]
    assert lines[4] == "(2 rows)"


def test_table_columns_line_up(query: Query) -> None:
    _, out, _ = query(REPOS)
    header, _, first, second = out.splitlines()[:4]
    assert header.index("license") == first.index("apache-2.0") == second.index("NULL")


def test_csv_output_is_a_header_and_one_record_per_row(query: Query) -> None:
    code, out, _ = query(REPOS, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["repo_id", "license", "gguf_file_count"],
        ["bartowski/Qwen2.5-7B-Instruct-GGUF", "apache-2.0", "2"],
        ["unsloth/Big-GGUF", "", "2"],
    ]


def test_json_output_is_a_list_of_objects(query: Query) -> None:
    code, out, _ = query(REPOS, "--format", "json")
    assert code == 0
    assert json.loads(out) == [
        {"repo_id": "bartowski/Qwen2.5-7B-Instruct-GGUF", "license": "apache-2.0", "gguf_file_count": 2},
        {"repo_id": "unsloth/Big-GGUF", "license": None, "gguf_file_count": 2},
    ]


def test_json_output_writes_timestamps_and_lists_readably(query: Query) -> None:
    code, out, _ = query(
        "SELECT quantizations, last_seen_at FROM models WHERE repo_id LIKE 'bartowski/%'", "--format", "json"
    )
    assert code == 0
    [row] = json.loads(out)
    assert row["quantizations"] == ["Q4_K_M", "Q8_0"]
    assert row["last_seen_at"].startswith("2025-06-01")


def test_quantization_summary_view_is_queryable(query: Query) -> None:
    code, out, _ = query(
        "SELECT quantization, repos, files, total_bytes FROM quantization_summary", "--format", "json"
    )
    assert code == 0
    assert json.loads(out) == [
        {"quantization": "Q4_K_M", "repos": 2, "files": 2, "total_bytes": 10 * GIB},
        {"quantization": "Q8_0", "repos": 1, "files": 1, "total_bytes": 8 * GIB},
    ]


def test_best_file_under_is_queryable(query: Query) -> None:
    code, out, _ = query(
        f"SELECT repo_id, logical_file, quantization, parts FROM best_file_under({9 * GIB})",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out) == [
        {
            "repo_id": "bartowski/Qwen2.5-7B-Instruct-GGUF",
            "logical_file": "q8_0.gguf",
            "quantization": "Q8_0",
            "parts": 1,
        },
        {"repo_id": "unsloth/Big-GGUF", "logical_file": "q4", "quantization": "Q4_K_M", "parts": 2},
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO models (repo_id) VALUES ('evil/repo')",
        "CREATE TABLE notes (text VARCHAR)",
        "CREATE TEMP TABLE scratch AS SELECT 1",
        "UPDATE models SET likes = 0",
        "DELETE FROM models",
        "DROP VIEW quantization_summary",
        "SELECT 1; DELETE FROM models",
    ],
)
def test_sql_that_writes_is_refused(query: Query, published: Path, sql: str) -> None:
    before = published.read_bytes()
    code, out, err = query(sql)
    assert code == 2
    assert out == ""
    assert "refused" in err
    assert "only reads the catalogue" in err
    assert published.read_bytes() == before


def test_copy_to_a_file_is_refused_and_writes_nothing(query: Query, tmp_path: Path) -> None:
    target = tmp_path / "dump.csv"
    code, _, err = query(f"COPY models TO '{target}'")
    assert code == 2
    assert "COPY statements are refused" in err
    assert not target.exists()


def test_a_refused_statement_is_named_by_its_own_keyword(query: Query) -> None:
    code, _, err = query("-- fetch an extension\nINSTALL httpfs")
    assert code != 0
    assert "INSTALL statements are refused" in err


def test_attaching_a_database_to_write_into_is_refused(query: Query, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    code, _, err = query(f"ATTACH '{other}' AS other; CREATE TABLE other.copy AS SELECT * FROM models")
    assert code == 2
    assert "ATTACH statements are refused" in err
    assert not other.exists()


def test_a_missing_catalogue_is_a_clear_error(query: Query, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "catalogue.duckdb"
    code, out, err = query("SELECT 1", catalogue=missing)
    assert code == 2
    assert out == ""
    assert err == f"error: no catalogue at {missing}: run `ggufsync sync` first\n"


def test_a_bad_query_is_a_clear_error(query: Query) -> None:
    code, _, err = query("SELECT nope FROM models")
    assert code == 2
    assert err.startswith("error: query failed:")
    assert "nope" in err


def test_the_catalogue_defaults_to_storage_catalogue_path(
    query: Query, published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sync-config.yaml").write_text(f"storage:\n  catalogue_path: {published}\n")
    monkeypatch.setenv("GGUFSYNC_CONFIG_DIR", str(config))
    code, out, _ = query("SELECT count(*) AS repos FROM current_models", "--format", "csv", catalogue=None)
    assert code == 0
    assert out.split() == ["repos", "2"]
