"""`file_memory`, `runs_in` and `model_families`: what each file needs to run (priced in SQL by the
rule of gguf/memory.py, from the header the files step read), and which model a repo is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ggufsync_assets.catalogue.contract import HEADER_FRAME
from ggufsync_assets.catalogue.store import CatalogueStore, CatalogueWriter
from ggufsync_assets.gguf.header import parse_header
from ggufsync_assets.gguf.memory import estimate_memory, kv_bytes_per_token
from ggufsync_tests.catalogue.conftest import SYNC_1, files, gguf, model, models, rows, summaries, summary_of
from ggufsync_tests.gguf import write_gguf
from ggufsync_tests.gguf.test_memory import llama_3_8b

GIB = 1 << 30
REPO = "bartowski/Meta-Llama-3-8B-Instruct-GGUF"
SIZES = {"Q4_K_M": 4_920_000_000, "Q6_K": 6_600_000_000, "Q8_0": 8_540_000_000}


@pytest.fixture
def writer(tmp_path: Path) -> Any:
    with CatalogueStore(tmp_path / "catalogue.duckdb").writer() as writer:
        yield writer


def catalogue_llama(
    writer: CatalogueWriter, tmp_path: Path, *, header: bool = True, extra: tuple[dict[str, Any], ...] = ()
) -> None:
    """A Llama 3 8B repo with three quantizations (and `extra` files), and (if `header`) the header
    the files step read."""
    parsed = parse_header(write_gguf(tmp_path / "llama.gguf", llama_3_8b).data)
    writer.upsert_models(models(model(REPO)), run_id="r1", now=SYNC_1)
    file_rows = [gguf(REPO, f"Meta-Llama-3-8B-Instruct-{q}.gguf", size, q) for q, size in SIZES.items()]
    file_rows += extra
    per_token = kv_bytes_per_token(parsed)
    header_rows = [
        {
            "repo_id": REPO,
            "path": file_rows[0]["path"],
            "architecture": "llama",
            "context_length": parsed.context_length,
            "block_count": parsed.block_count,
            "kv_bytes_per_token": round(per_token) if per_token else None,
            "bytes_read": 262144,
            "range_requests": 1,
            "read_at": SYNC_1,
        }
    ]
    writer.replace_files(
        files(*file_rows),
        summaries(summary_of(REPO, file_rows)),
        pl.DataFrame(header_rows if header else [], schema=HEADER_FRAME),
    )


def test_file_memory_prices_each_file_as_the_python_estimate_does(
    writer: CatalogueWriter, tmp_path: Path
) -> None:
    catalogue_llama(writer, tmp_path)
    parsed = parse_header(write_gguf(tmp_path / "again.gguf", llama_3_8b).data)
    found = rows(
        writer, "SELECT quantization, bytes_at_4k, bytes_at_8k, bytes_at_32k FROM file_memory ORDER BY 1"
    )
    for quantization, at_4k, at_8k, at_32k in found:
        for context, priced in ((4096, at_4k), (8192, at_8k), (32768, at_32k)):
            estimate = estimate_memory(parsed, weights_bytes=SIZES[quantization], context=context)
            assert estimate is not None
            assert priced == estimate.total_bytes, (quantization, context)


def test_runs_in_picks_the_most_bits_per_weight_that_fits(writer: CatalogueWriter, tmp_path: Path) -> None:
    catalogue_llama(writer, tmp_path)
    # Q6_K at 8k: 6.6 GB + 1 GiB of KV cache (32 layers x 8 KV heads x (128 + 128) x 2 bytes x 8192)
    # + 512 MiB + 5 % of 6.6 GB = 8.54 GB, 7.95 GiB; Q8_0 needs 10.58 GB, 9.85 GiB.
    assert rows(writer, "SELECT quantization FROM runs_in(8)") == [("Q6_K",)]


def test_an_importance_matrix_is_no_file_to_run(writer: CatalogueWriter, tmp_path: Path) -> None:
    matrix = gguf(REPO, "Meta-Llama-3-8B-Instruct.imatrix.gguf", 5_000_000, None, is_imatrix=True)
    catalogue_llama(writer, tmp_path, extra=(matrix,))
    assert rows(writer, "SELECT count(*) FROM logical_files WHERE is_imatrix") == [(1,)]
    assert rows(writer, "SELECT count(*), count(*) FILTER (WHERE quantization IS NULL) FROM file_memory") == [
        (3, 0)
    ]
    assert rows(writer, "SELECT logical_file FROM runs_in(1)") == []


def test_a_longer_context_needs_more_memory(writer: CatalogueWriter, tmp_path: Path) -> None:
    catalogue_llama(writer, tmp_path)
    # At 32k the KV cache alone is 4 GiB: Q4_K_M needs 4.92 + 4.29 + 0.54 + 0.25 = 10.0 GB, 9.31 GiB;
    # Q6_K needs 11.76 GB, 10.95 GiB.
    assert rows(writer, "SELECT quantization FROM runs_in(10, context := 32768)") == [("Q4_K_M",)]


def test_nothing_fits_in_too_little_memory(writer: CatalogueWriter, tmp_path: Path) -> None:
    catalogue_llama(writer, tmp_path)
    assert rows(writer, "SELECT * FROM runs_in(2)") == []


def test_a_repo_without_a_readable_header_gets_no_estimate(writer: CatalogueWriter, tmp_path: Path) -> None:
    catalogue_llama(writer, tmp_path, header=False)
    assert rows(writer, "SELECT count(*) FROM file_memory") == [(0,)]


# ----- model families ---------------------------------------------------------------------------


def families(writer: CatalogueWriter) -> dict[str, tuple[str | None, str | None]]:
    found = rows(writer, "SELECT repo_id, root_base_model, model_family FROM model_families")
    return {repo_id: (root, family) for repo_id, root, family in found}


def test_the_family_comes_from_the_root_of_the_base_model_chain(writer: CatalogueWriter) -> None:
    writer.upsert_models(
        models(
            model("someone/Tuned-GGUF", base_models=["someone/Tuned"]),
            model("someone/Tuned", base_models=["meta-llama/Llama-3.1-8B-Instruct"]),
        ),
        run_id="r1",
        now=SYNC_1,
    )
    assert families(writer)["someone/Tuned-GGUF"] == ("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1")


def test_without_a_base_model_the_family_comes_from_the_headers_basename(writer: CatalogueWriter) -> None:
    writer.upsert_models(models(model("someone/Bare-GGUF", base_models=[])), run_id="r1", now=SYNC_1)
    file_rows = [gguf("someone/Bare-GGUF", "bare-Q4_K_M.gguf", 10, "Q4_K_M")]
    header_row = {
        "repo_id": "someone/Bare-GGUF",
        "path": "bare-Q4_K_M.gguf",
        "basename": "Meta-Llama-3.1",
        "size_label": "8B",
        "bytes_read": 1,
        "range_requests": 1,
        "read_at": SYNC_1,
    }
    writer.replace_files(
        files(*file_rows),
        summaries(summary_of("someone/Bare-GGUF", file_rows)),
        pl.DataFrame([header_row], schema=HEADER_FRAME),
    )
    assert families(writer)["someone/Bare-GGUF"] == (None, "llama-3.1")


def test_a_base_model_cycle_ends(writer: CatalogueWriter) -> None:
    writer.upsert_models(
        models(model("a/one", base_models=["a/two"]), model("a/two", base_models=["a/one"])),
        run_id="r1",
        now=SYNC_1,
    )
    assert set(families(writer)) == {"a/one", "a/two"}


def test_every_logical_file_carries_the_bits_per_weight_of_its_quantization(
    writer: CatalogueWriter, tmp_path: Path
) -> None:
    catalogue_llama(writer, tmp_path)
    assert rows(writer, "SELECT quantization, bits_per_weight FROM logical_files ORDER BY 2") == [
        ("Q4_K_M", 4.8),
        ("Q6_K", 6.5625),
        ("Q8_0", 8.5),
    ]
