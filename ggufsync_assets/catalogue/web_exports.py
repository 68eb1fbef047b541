"""JSON that a static website or a notebook serves as it is, written beside the Parquet exports.

Each document is one query over the published catalogue's views (README, "JSON exports", gives
their fields); each is written to a temporary file and renamed over the last one, so a reader sees
the old document or the new one, never half of either. `models` nests every repo's files and their
download URLs: in one query, a 200,000-repo catalogue's aggregate outgrew DuckDB's share of
performance.memory_limit_mb, so it is written MODELS_PER_PART repos at a time, in id order.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

DOCUMENTS: dict[str, str] = {
    "models": """
        SELECT m.repo_id, m.author, m.downloads, m.likes, m.license, m.pipeline_tag, m.architecture,
               m.parameter_count, m.context_length, m.last_modified, m.completeness_score, m.card_score,
               coalesce(list({'file': l.logical_file, 'quantization': l.quantization,
                              'bits_per_weight': l.bits_per_weight, 'bytes': l.total_bytes,
                              'parts': l.parts, 'urls': l.urls} ORDER BY l.total_bytes DESC, l.logical_file)
                        FILTER (WHERE l.logical_file IS NOT NULL), []) AS files
        FROM current_models m
        LEFT JOIN (
            SELECT lf.repo_id, lf.logical_file, lf.quantization, lf.bits_per_weight, lf.total_bytes,
                   lf.parts, list(f.download_url ORDER BY f.path) AS urls
            FROM logical_files lf JOIN model_files f USING (repo_id, logical_file)
            WHERE lf.repo_id BETWEEN $first AND $last
            GROUP BY ALL
        ) l USING (repo_id)
        WHERE m.repo_id BETWEEN $first AND $last
        GROUP BY ALL
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
query takes the range of repo ids ($first, $last) of one part."""
MODELS_PER_PART = 5_000


def write_documents(
    con: duckdb.DuckDBPyConnection, folder: Path, *, models_per_part: int = MODELS_PER_PART
) -> list[Path]:
    """Every document as folder/<name>.json, each replaced atomically."""
    written = []
    for name, sql in DOCUMENTS.items():
        target = folder / f"{name}.json"
        partial = target.with_suffix(".json.tmp")
        if name == "models":
            _write_in_parts(con, sql, partial, models_per_part)
        else:
            array = "false" if name == "statistics" else "true"
            con.execute(f"COPY ({sql}) TO '{partial}' (FORMAT json, ARRAY {array})")
        os.replace(partial, target)
        written.append(target)
    return written


def _write_in_parts(con: duckdb.DuckDBPyConnection, sql: str, target: Path, per_part: int) -> None:
    """One JSON array from the query's parts, each `per_part` repos long, written as DuckDB writes them
    (one object per line) and joined in order."""
    ids = [
        repo_id
        for (repo_id,) in con.execute("SELECT repo_id FROM current_models ORDER BY repo_id").fetchall()
    ]
    part = target.with_suffix(".part")
    try:
        with target.open("w", encoding="utf-8") as out:
            out.write("[")
            separator = "\n"
            for start in range(0, len(ids), per_part):
                bounds = {"first": ids[start], "last": ids[min(start + per_part, len(ids)) - 1]}
                con.execute(f"COPY ({sql}) TO '{part}' (FORMAT json)", bounds)
                with part.open(encoding="utf-8") as lines:
                    for line in lines:
                        out.write(separator + line.rstrip("\n"))
                        separator = ",\n"
            out.write("\n]\n")
    finally:
        part.unlink(missing_ok=True)
