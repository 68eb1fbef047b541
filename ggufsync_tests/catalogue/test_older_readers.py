"""The published catalogue opens in the DuckDB 1.x that users have installed, not only in 2.x."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ggufsync_assets.catalogue.store import CatalogueStore
from ggufsync_tests.catalogue.conftest import SYNC_1, gguf, model, models, put_files

UV = Path(sys.executable).with_name("uv")
READ = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(duckdb.__version__, con.sql("SELECT count(*) FROM current_models").fetchone()[0],
      con.sql("SELECT count(*) FROM best_file_under(100)").fetchone()[0])
"""


def newest_duckdb_1x(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Python with the newest DuckDB 1.x from PyPI (through uv's cache), running `arguments`."""
    command = [str(UV), "run", "--no-project", "--python", sys.executable, "--with", "duckdb<2", "python"]
    return subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=180, check=False)


def test_the_newest_duckdb_1x_reads_a_published_catalogue(tmp_path: Path) -> None:
    if (probe := newest_duckdb_1x("-c", "import duckdb")).returncode != 0:
        pytest.skip(f"DuckDB 1.x could not be installed from PyPI: {probe.stderr.strip()[-300:]}")
    store = CatalogueStore(tmp_path / "catalogue.duckdb")
    with store.writer() as writer:
        writer.upsert_models(models(model("a/one"), model("a/two")), run_id="r1", now=SYNC_1)
        put_files(writer, "a/one", gguf("a/one", "one-Q4_K_M.gguf", 4, "Q4_K_M"))
    store.publish()

    read = newest_duckdb_1x("-c", READ, str(store.published))

    assert read.returncode == 0, read.stderr[-2000:]
    version, repos, best = read.stdout.split()
    assert version.startswith("1.")
    assert (repos, best) == ("2", "1")
