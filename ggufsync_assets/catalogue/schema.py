"""The catalogue's DDL, views and macros: a public contract analysts write SQL against.

Tables come from catalogue/contract.py; README documents each column. Columns beyond the design's
contract (tags, files_sha, last_seen_at, ...) exist for the pipeline's own bookkeeping.
"""

from __future__ import annotations

import duckdb

from ggufsync_assets.catalogue.contract import TABLES
from ggufsync_assets.gguf.memory import OVERHEAD_FLOOR_BYTES, OVERHEAD_PERCENT_OF_WEIGHTS

SCHEMA_VERSION = 1
"""Bumped only for a change that adding columns cannot express (a new key, a changed type)."""

SCHEMA_INFO = """
CREATE TABLE IF NOT EXISTS schema_info (
    version INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
"""
DDL = "\n\n".join([SCHEMA_INFO.strip(), *(t.ddl() for t in TABLES)])


class SchemaError(Exception):
    """The catalogue file was written by a newer ggufsync, or its tables cannot be migrated."""


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create what is missing and add columns the contract gained; returns the columns added.

    A catalogue written by a newer ggufsync is refused rather than half understood.
    """
    con.execute(DDL)
    # fetchall, not fetchone: a partly fetched result blocks the next register() on the connection
    (version,) = con.execute("SELECT max(version) FROM schema_info").fetchall()[0]
    if version is None:
        con.execute("INSERT INTO schema_info VALUES (?, now())", [SCHEMA_VERSION])
    elif version > SCHEMA_VERSION:
        raise SchemaError(
            f"the catalogue has schema version {version}; this ggufsync knows up to {SCHEMA_VERSION}"
        )
    added = []
    for table in TABLES:
        present = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
                [table.name],
            ).fetchall()
        }
        for column in table.columns:
            if column.name not in present:
                # An added column cannot be NOT NULL: the rows already there have no value.
                con.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.sql}")
                added.append(f"{table.name}.{column.name}")
    return added


# Views and table macros for the common questions; README shows an example of each.
VIEWS = """
CREATE OR REPLACE VIEW current_models AS
    SELECT * FROM models WHERE removed_at IS NULL;

CREATE OR REPLACE VIEW logical_files AS
    SELECT l.*, r.quality AS bits_per_weight
    FROM (
        SELECT f.repo_id, f.logical_file, any_value(f.quantization) AS quantization,
               count(*) AS parts, max(f.split_count) AS split_count, sum(f.size_bytes) AS total_bytes,
               bool_or(f.is_mmproj) AS is_mmproj, bool_or(coalesce(f.is_imatrix, false)) AS is_imatrix
        FROM model_files f JOIN models m USING (repo_id)
        WHERE m.removed_at IS NULL
        GROUP BY f.repo_id, f.logical_file
    ) l LEFT JOIN quantization_ranks r USING (quantization);

CREATE OR REPLACE VIEW quantization_summary AS
    SELECT quantization, count(DISTINCT repo_id) AS repos, count(*) AS files,
           sum(total_bytes) AS total_bytes, median(total_bytes) AS median_bytes
    FROM logical_files
    WHERE NOT is_mmproj AND NOT is_imatrix AND quantization IS NOT NULL
    GROUP BY quantization
    ORDER BY repos DESC, quantization;

CREATE OR REPLACE VIEW architecture_summary AS
    SELECT coalesce(architecture, '(unknown)') AS architecture, count(*) AS repos,
           sum(downloads) AS downloads, median(parameter_count) AS median_parameters,
           max(context_length) AS max_context_length
    FROM current_models
    GROUP BY 1
    ORDER BY repos DESC, architecture;

CREATE OR REPLACE MACRO best_file_under(budget_bytes) AS TABLE
    SELECT repo_id, logical_file, quantization, bits_per_weight, total_bytes, parts
    FROM (
        SELECT l.*, row_number() OVER (
                   PARTITION BY l.repo_id ORDER BY r.quality DESC, l.total_bytes DESC
               ) AS choice
        FROM logical_files l JOIN quantization_ranks r USING (quantization)
        WHERE NOT l.is_mmproj AND NOT l.is_imatrix AND l.total_bytes <= budget_bytes
    )
    WHERE choice = 1
    ORDER BY repo_id;

"""
MEMORY_BYTES = f"""
-- Memory to run a file (gguf/memory.py, the same rule): weights + KV cache + compute allowance.
CREATE OR REPLACE MACRO memory_bytes(weights, kv_bytes_per_token, context) AS
    weights + kv_bytes_per_token * context + {OVERHEAD_FLOOR_BYTES}
    + weights * {OVERHEAD_PERCENT_OF_WEIGHTS} // 100;
"""
VIEWS += MEMORY_BYTES
VIEWS += r"""
-- Every logical weights file with what it takes to run, priced from its repo's representative header.
CREATE OR REPLACE VIEW file_memory AS
    SELECT l.repo_id, l.logical_file, l.quantization, l.bits_per_weight, l.total_bytes,
           h.native_context, h.kv_bytes_per_token,
           memory_bytes(l.total_bytes, h.kv_bytes_per_token, h.native_context) AS bytes_at_native_context,
           memory_bytes(l.total_bytes, h.kv_bytes_per_token, 4096) AS bytes_at_4k,
           memory_bytes(l.total_bytes, h.kv_bytes_per_token, 8192) AS bytes_at_8k,
           memory_bytes(l.total_bytes, h.kv_bytes_per_token, 32768) AS bytes_at_32k
    FROM logical_files l
    JOIN (SELECT repo_id, max(kv_bytes_per_token) AS kv_bytes_per_token,
                 max(context_length) AS native_context
          FROM gguf_headers WHERE error IS NULL AND kv_bytes_per_token IS NOT NULL
          GROUP BY repo_id) h USING (repo_id)
    WHERE NOT l.is_mmproj AND NOT l.is_imatrix AND l.total_bytes IS NOT NULL;

-- The best file of each repo (most bits per weight, then largest) that runs in `gib` GiB at `context`.
CREATE OR REPLACE MACRO runs_in(gib, context := 8192) AS TABLE
    SELECT repo_id, logical_file, quantization, bits_per_weight,
           round(total_bytes / 2 ** 30, 2) AS file_gib, round(needs / 2 ** 30, 2) AS needs_gib
    FROM (
        SELECT f.*, memory_bytes(f.total_bytes, f.kv_bytes_per_token, context) AS needs,
               row_number() OVER (
                   PARTITION BY f.repo_id ORDER BY f.bits_per_weight DESC NULLS LAST, f.total_bytes DESC
               ) AS choice
        FROM file_memory f
        WHERE memory_bytes(f.total_bytes, f.kv_bytes_per_token, context) <= gib * 2 ** 30
    )
    WHERE choice = 1
    ORDER BY repo_id;

-- Which model a repo is: the root of its base_model chain (followed through repos the catalogue holds),
-- and a family name from that root (or the header's general.basename): its name without organisation,
-- a leading "Meta-", or the size label and what follows it ("meta-llama/Llama-3.1-8B-Instruct" and
-- "Meta-Llama-3.1" are both "llama-3.1").
CREATE OR REPLACE VIEW model_families AS
    WITH RECURSIVE chain(repo_id, ancestor, depth) AS (
        SELECT repo_id, base_models[1], 1 FROM current_models WHERE len(base_models) > 0
        UNION ALL
        SELECT c.repo_id, m.base_models[1], c.depth + 1
        FROM chain c JOIN current_models m ON m.repo_id = c.ancestor
        WHERE len(m.base_models) > 0 AND c.depth < 8
    ),
    roots AS (SELECT repo_id, arg_max(ancestor, depth) AS root_base_model FROM chain GROUP BY repo_id),
    headers AS (
        SELECT repo_id, arg_min(basename, path) AS basename, arg_min(size_label, path) AS size_label
        FROM gguf_headers WHERE error IS NULL GROUP BY repo_id
    )
    SELECT m.repo_id, r.root_base_model, h.size_label,
           nullif(lower(regexp_replace(
               regexp_replace(coalesce(split_part(r.root_base_model, '/', -1), h.basename), '^meta[-_]', '', 'i'),
               '[-_ ]\d+(\.\d+)?(x\d+(\.\d+)?)?[bm]([-_ .].*)?$', '', 'i'
           )), '') AS model_family
    FROM current_models m LEFT JOIN roots r USING (repo_id) LEFT JOIN headers h USING (repo_id);

-- 'added' means new to this catalogue; new_on_hub says whether the repo was also created on the Hub
-- since `moment` (a first sync adds every repo, most of them years old).
CREATE OR REPLACE MACRO changes_since(moment) AS TABLE
    SELECT h.changed_at, h.repo_id, h.change,
           CASE WHEN h.change = 'added' THEN m.created_at >= CAST(moment AS TIMESTAMPTZ) END AS new_on_hub,
           h.old_sha, h.new_sha, h.run_id
    FROM model_history h LEFT JOIN models m USING (repo_id)
    WHERE h.changed_at >= CAST(moment AS TIMESTAMPTZ)
    ORDER BY h.changed_at, h.repo_id;
"""
