"""JSON that a static website or a notebook serves as it is, written beside the Parquet exports.

Each document is one query over the published catalogue's views (README, "JSON exports", gives
their fields); each is written to a temporary file and renamed over the last one, so a reader sees
the old document or the new one, never half of either. `models` nests every repo's files and their
download URLs, which DuckDB aggregates in memory: it is written in parts of whole repos in id order,
sized in files to DuckDB's memory limit, so its memory follows the part, not the catalogue (in one
query, a 200,000-repo catalogue outgrew DuckDB's share of performance.memory_limit_mb, and so did
parts of a fixed number of repos where one publisher's repos of 100+ files each sort together).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

DOCUMENTS: dict[str, str] = {
    "models": """
        WITH part_files AS (
            SELECT f.repo_id, f.logical_file, any_value(f.quantization) AS quantization,
                   count(*) AS parts, sum(f.size_bytes) AS total_bytes,
                   list(f.download_url ORDER BY f.path) AS urls
            FROM model_files f
            WHERE f.repo_id BETWEEN $first AND $last
            GROUP BY f.repo_id, f.logical_file
        ), repo_files AS (
            SELECT p.repo_id,
                   list({'file': p.logical_file, 'quantization': p.quantization,
                         'bits_per_weight': r.quality, 'bytes': p.total_bytes,
                         'parts': p.parts, 'urls': p.urls} ORDER BY p.total_bytes DESC, p.logical_file)
                       AS files
            FROM part_files p LEFT JOIN quantization_ranks r USING (quantization)
            GROUP BY p.repo_id
        )
        SELECT m.repo_id, m.author, m.downloads, m.likes, m.license, m.pipeline_tag, m.architecture,
               m.parameter_count, m.context_length, m.last_modified, m.completeness_score, m.card_score,
               coalesce(f.files, []) AS files
        FROM current_models m LEFT JOIN repo_files f USING (repo_id)
        WHERE m.repo_id BETWEEN $first AND $last
        ORDER BY m.repo_id
    """,
    "statistics": """
        SELECT count(*) AS repos, coalesce(sum(gguf_file_count), 0) AS files,
               coalesce(sum(total_gguf_bytes), 0) AS bytes, count(DISTINCT author) AS authors,
               max(last_synced_at) AS synced_at
        FROM current_models
    """,
    "quantizations": "FROM quantization_summary",
    "architectures": "FROM architecture_summary",
    "authors": """
        SELECT author, count(*) AS repos, sum(downloads) AS downloads
        FROM current_models GROUP BY author ORDER BY repos DESC, author
    """,
    "search": """
        SELECT repo_id AS id,
               lower(concat_ws(' ', repo_id, architecture, array_to_string(quantizations, ' '))) AS text
        FROM current_models ORDER BY repo_id
    """,
}
"""Each document's query; `statistics` is one object, the others arrays of objects. The `models`
query takes the range of repo ids ($first, $last) of one part, and sums a repo's logical files from
model_files itself: through the logical_files view, each part would scan model_files twice."""
FILES_PER_MIB = 100
"""Files per part of `models` for each MiB of DuckDB's memory limit: within 128 MiB, parts of 20,000
files fit and parts of 50,000 ran out of memory."""
PARTS = """
    SELECT min(repo_id), max(repo_id)
    FROM (SELECT repo_id, (sum(files) OVER (ORDER BY repo_id) - files) // $per_part AS part
          FROM (SELECT m.repo_id, count(f.path) AS files
                FROM current_models m LEFT JOIN model_files f USING (repo_id) GROUP BY 1))
    GROUP BY part
    ORDER BY part
"""
"""The first and last repo id of each part: repos in id order, a new part once the files before a
repo reach the next multiple of $per_part."""


def files_per_part(memory_limit_mb: int | None) -> int:
    """How many files a part of `models` aggregates within DuckDB's memory limit (None: DuckDB's
    default, most of the machine's memory; parts as for 1 GiB)."""
    return FILES_PER_MIB * (memory_limit_mb or 1024)


def write_documents(con: duckdb.DuckDBPyConnection, folder: Path, *, files_per_part: int) -> list[Path]:
    """Every document as folder/<name>.json, each replaced atomically."""
    written = []
    for name, sql in DOCUMENTS.items():
        target = folder / f"{name}.json"
        partial = target.with_suffix(".json.tmp")
        if name == "models":
            _write_in_parts(con, sql, partial, files_per_part)
        else:
            array = "false" if name == "statistics" else "true"
            con.execute(f"COPY ({sql}) TO '{partial}' (FORMAT json, ARRAY {array})")
        os.replace(partial, target)
        written.append(target)
    return written


def _write_in_parts(con: duckdb.DuckDBPyConnection, sql: str, target: Path, per_part: int) -> None:
    """One JSON array from the query's parts (PARTS), written as DuckDB writes them (one object per
    line) and joined in order."""
    parts = con.execute(PARTS, {"per_part": per_part}).fetchall()
    part = target.with_suffix(".part")
    try:
        with target.open("w", encoding="utf-8") as out:
            out.write("[")
            separator = "\n"
            for first, last in parts:
                con.execute(f"COPY ({sql}) TO '{part}' (FORMAT json)", {"first": first, "last": last})
                with part.open(encoding="utf-8") as lines:
                    for line in lines:
                        out.write(separator + line.rstrip("\n"))
                        separator = ",\n"
            out.write("\n]\n")
    finally:
        part.unlink(missing_ok=True)
