"""The CLI loads only what the command it runs needs, so `--help` and `query` start at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("dagster", "polars", "duckdb", "pydantic", "httpx", "gguf")
PROBE = """
import sys
from ggufsync_assets.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(" ".join(sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))))
"""


def loaded_by(*argv: str, cwd: Path) -> set[str]:
    """The heavy packages a fresh interpreter has loaded after running `ggufsync argv`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.replace("HEAVY", repr(HEAVY)), *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    return set(done.stdout.splitlines()[-1].split()) if done.stdout.strip() else set()


def test_help_loads_no_heavy_library(tmp_path: Path) -> None:
    assert loaded_by("--help", cwd=tmp_path) == set()


@pytest.mark.parametrize(
    ("command", "needless"),
    [
        ("config", {"dagster", "polars", "duckdb"}),
        ("query", {"dagster", "polars"}),
        ("hub", {"dagster"}),
        ("catalogue", {"dagster"}),
    ],
)
def test_a_light_command_does_not_load_dagster(command: str, needless: set[str], tmp_path: Path) -> None:
    assert loaded_by(command, "--help", cwd=tmp_path).isdisjoint(needless)


def test_query_loads_neither_dagster_nor_polars(tmp_path: Path) -> None:
    loaded = loaded_by("query", "SELECT 1", "--catalogue", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert loaded.isdisjoint({"dagster", "polars"})
    assert "duckdb" in loaded
