"""One definition of the catalogue's columns: the README, the DDL, the frames and the migrations agree."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ggufsync_assets.catalogue.contract import (
    LISTING_COLUMNS,
    MODEL_FRAME,
    MODELS,
    SUMMARY_FRAME,
    TABLES,
    Source,
    Table,
)
from ggufsync_assets.catalogue.schema import SCHEMA_VERSION, SchemaError
from ggufsync_assets.catalogue.store import MODEL_UPDATE_COLUMNS, CatalogueStore
from ggufsync_assets.sync.records import validate

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_table(table: str) -> dict[str, str]:
    """column -> type from README's `| column | type | meaning |` table that follows `table`'s heading."""
    text = README.read_text()
    start = text.index(f"`{table}`: ")
    rows = re.findall(r"^\| (`.+?) \| (.+?) \|", text[start:].split("\n\n", 2)[1], re.MULTILINE)
    found: dict[str, str] = {}
    for names, kinds in rows:
        columns = re.findall(r"`(\w+)`", names)
        types = [k.strip().removesuffix(" (key)") for k in kinds.split(", ")]
        for i, name in enumerate(columns):
            found[name] = types[min(i, len(types) - 1)]
    return found


def _readme_list(table: str) -> list[str]:
    """The columns README names in `table (`a`, `b`, ...)`."""
    text = " ".join(README.read_text().split())
    inner = re.search(rf"`{table}` \((.+?)\):", text)
    assert inner is not None, f"README does not list the columns of {table}"
    return re.findall(r"`(\w+)`", inner.group(1))


@pytest.mark.parametrize("table", ["models", "model_files", "gguf_headers"], ids=str)
def test_readme_documents_every_column_with_its_type(table: str) -> None:
    contract = next(t for t in TABLES if t.name == table)
    assert _readme_table(table) == {c.name: c.sql for c in contract.columns}


@pytest.mark.parametrize("table", ["model_history", "sync_runs", "rejected_records"], ids=str)
def test_readme_names_every_column_of_the_bookkeeping_tables(table: str) -> None:
    contract = next(t for t in TABLES if t.name == table)
    assert _readme_list(table) == list(contract.names())


def test_the_catalogue_file_has_exactly_the_contracts_columns(tmp_path: Path) -> None:
    with CatalogueStore(tmp_path / "catalogue.duckdb").writer() as writer:
        for table in TABLES:
            described = writer.con.sql(f"DESCRIBE {table.name}").fetchall()
            spelled = [
                (row[0], row[1].replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")) for row in described
            ]
            assert spelled == [(c.name, c.sql) for c in table.columns]


def test_a_listing_record_fills_every_listing_column() -> None:
    record = {
        "id": "acme/Model-GGUF",
        "sha": "a" * 40,
        "lastModified": "2025-01-02T03:04:05.000Z",
        "gated": "manual",
        "cardData": {"license": "mit", "base_model": "acme/Model"},
        "gguf": {"total": 7, "architecture": "llama", "context_length": 4096},
        "siblings": [{"rfilename": "m-Q4_K_M.gguf"}],
    }
    row = validate(record, schema_validation=True, automatic_fixes=False).row
    assert row is not None
    assert list(row) == [c.name for c in LISTING_COLUMNS]
    assert (row["author"], row["gated"], row["gated_mode"], row["license"], row["base_models"]) == (
        "acme",
        True,
        "manual",
        "mit",
        ["acme/Model"],
    )
    assert (row["architecture"], row["parameter_count"], row["context_length"]) == ("llama", 7, 4096)


def test_the_write_lists_follow_each_columns_source() -> None:
    assert set(MODEL_FRAME) == set(MODELS.names(Source.KEY, Source.LISTING, Source.STAMP))
    assert set(SUMMARY_FRAME) == {"repo_id", *MODELS.names(Source.FILES)}
    assert "repo_id" not in MODEL_UPDATE_COLUMNS
    assert "first_seen_at" not in MODEL_UPDATE_COLUMNS


def test_an_older_catalogue_gains_the_columns_the_contract_added(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb")
    with store.writer() as writer:
        writer.con.execute("ALTER TABLE models DROP COLUMN has_mmproj")
        writer.con.execute("COMMENT ON TABLE schema_info IS NULL")  # older files carry no fingerprint
    store.claim("run-1")
    with store.writer() as writer:
        assert "has_mmproj" in {row[0] for row in writer.con.sql("DESCRIBE models").fetchall()}


def test_a_catalogue_from_a_newer_ggufsync_is_refused(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb")
    with store.writer() as writer:
        writer.con.execute("INSERT INTO schema_info VALUES (?, ?)", [SCHEMA_VERSION + 1, datetime.now(UTC)])
        writer.con.execute("COMMENT ON TABLE schema_info IS 'a newer schema'")
    with pytest.raises(SchemaError, match="this ggufsync knows up to"):
        store.claim("run-1")


def test_a_catalogue_prepared_by_an_older_ggufsync_gets_this_ones_views(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb")
    with store.writer() as writer:
        writer.con.execute("DROP VIEW file_memory")
        writer.con.execute("COMMENT ON TABLE schema_info IS 'an older schema'")
    store.claim("run-1")
    with store.writer() as writer:
        assert writer.con.sql("SELECT count(*) FROM file_memory").fetchall() == [(0,)]


def test_a_catalogue_this_ggufsync_prepared_is_not_prepared_again_by_the_next_run(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb")
    store.claim("run-1")
    store.release("run-1")
    with store.writer() as writer:
        writer.con.execute("CREATE OR REPLACE VIEW current_models AS SELECT * FROM models WHERE false")
    store.claim("run-2")
    with store.writer() as writer:
        assert (
            "false"
            in writer.con.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'current_models'")
            .fetchall()[0][0]
            .lower()
        )


def test_the_schema_is_prepared_once_per_run_not_per_step(tmp_path: Path) -> None:
    store = CatalogueStore(tmp_path / "catalogue.duckdb")
    assert store.claim("run-1").first
    with store.writer() as writer:
        writer.con.execute("DROP VIEW current_models")
    assert not store.claim("run-1").first
    with store.writer() as writer, pytest.raises(duckdb.CatalogException):
        writer.con.sql("SELECT * FROM current_models").fetchall()


def test_a_table_with_a_composite_key_declares_it_once() -> None:
    table = next(t for t in TABLES if t.name == "model_files")
    assert isinstance(table, Table)
    assert "PRIMARY KEY (repo_id, path)" in table.ddl()
