"""JSON that a static website or a notebook serves as it is, written beside the Parquet exports.

Each document is one query over the published catalogue's views (README, "JSON exports", gives
their fields); each is written to a temporary file and renamed over the last one, so a reader sees
the old document or the new one, never half of either.
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
                              'parts': l.parts, 'urls': l.urls} ORDER BY l.total_bytes DESC)
                        FILTER (WHERE l.logical_file IS NOT NULL), []) AS files
        FROM current_models m
        LEFT JOIN (
            SELECT lf.repo_id, lf.logical_file, lf.quantization, lf.bits_per_weight, lf.total_bytes,
                   lf.parts, list(f.download_url ORDER BY f.path) AS urls
            FROM logical_files lf JOIN model_files f USING (repo_id, logical_file)
            GROUP BY ALL
        ) l USING (repo_id)
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
"""Each document's query; `statistics` is one object, the others arrays of objects."""


def write_documents(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Path]:
    """Every document as folder/<name>.json, each replaced atomically."""
    written = []
    for name, sql in DOCUMENTS.items():
        target = folder / f"{name}.json"
        partial = target.with_suffix(".json.tmp")
        array = "false" if name == "statistics" else "true"
        con.execute(f"COPY ({sql}) TO '{partial}' (FORMAT json, ARRAY {array})")
        os.replace(partial, target)
        written.append(target)
    return written
