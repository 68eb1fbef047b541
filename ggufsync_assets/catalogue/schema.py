"""The catalogue's tables and views: a public contract analysts write SQL against.

Column names follow the design's contract exactly (README documents each one); columns beyond it
(tags, files_sha, last_seen_at, ...) exist for the pipeline's own bookkeeping and are documented too.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

TABLES = """
CREATE TABLE IF NOT EXISTS schema_info (
    version INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS models (
    repo_id VARCHAR PRIMARY KEY,
    author VARCHAR,
    sha VARCHAR,
    created_at TIMESTAMPTZ,
    last_modified TIMESTAMPTZ,
    downloads BIGINT,
    likes BIGINT,
    gated BOOLEAN,
    gated_mode VARCHAR,
    pipeline_tag VARCHAR,
    library_name VARCHAR,
    license VARCHAR,
    base_models VARCHAR[],
    tags VARCHAR[],
    architecture VARCHAR,
    parameter_count BIGINT,
    context_length BIGINT,
    quantizations VARCHAR[],
    gguf_file_count INTEGER,
    total_gguf_bytes BIGINT,
    has_mmproj BOOLEAN,
    discovery_methods VARCHAR[],
    completeness_score DOUBLE,
    files_sha VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    last_synced_at TIMESTAMPTZ NOT NULL,
    removed_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS model_files (
    repo_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    size_bytes BIGINT,
    quantization VARCHAR,
    split_index INTEGER,
    split_count INTEGER,
    logical_file VARCHAR NOT NULL,
    is_mmproj BOOLEAN NOT NULL,
    lfs_sha256 VARCHAR,
    download_url VARCHAR NOT NULL,
    header_ok BOOLEAN,
    synced_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (repo_id, path)
);

CREATE TABLE IF NOT EXISTS model_history (
    repo_id VARCHAR NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    change VARCHAR NOT NULL,
    old_sha VARCHAR,
    new_sha VARCHAR,
    run_id VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS sync_runs (
    run_id VARCHAR PRIMARY KEY,
    dagster_run_id VARCHAR,
    mode VARCHAR NOT NULL,
    partition_start VARCHAR,
    partition_end VARCHAR,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    complete_pass BOOLEAN NOT NULL,
    api_requests BIGINT,
    repos_listed BIGINT,
    repos_new BIGINT,
    repos_changed BIGINT,
    repos_refreshed BIGINT,
    repos_removed BIGINT,
    rejects BIGINT,
    error VARCHAR
);

CREATE TABLE IF NOT EXISTS rejected_records (
    run_id VARCHAR NOT NULL,
    repo_id VARCHAR,
    stage VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    record VARCHAR,
    rejected_at TIMESTAMPTZ NOT NULL
);
"""

# Views and table macros for the common questions; README shows an example of each.
VIEWS = """
CREATE OR REPLACE VIEW current_models AS
    SELECT * FROM models WHERE removed_at IS NULL;

CREATE OR REPLACE VIEW logical_files AS
    SELECT f.repo_id, f.logical_file, any_value(f.quantization) AS quantization,
           count(*) AS parts, max(f.split_count) AS split_count, sum(f.size_bytes) AS total_bytes,
           bool_or(f.is_mmproj) AS is_mmproj
    FROM model_files f JOIN models m USING (repo_id)
    WHERE m.removed_at IS NULL
    GROUP BY f.repo_id, f.logical_file;

CREATE OR REPLACE VIEW quantization_summary AS
    SELECT quantization, count(DISTINCT repo_id) AS repos, count(*) AS files,
           sum(total_bytes) AS total_bytes, median(total_bytes) AS median_bytes
    FROM logical_files
    WHERE NOT is_mmproj AND quantization IS NOT NULL
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
    SELECT repo_id, logical_file, quantization, total_bytes, parts
    FROM (
        SELECT l.*, row_number() OVER (
                   PARTITION BY l.repo_id ORDER BY r.quality DESC, l.total_bytes DESC
               ) AS choice
        FROM logical_files l JOIN quantization_ranks r USING (quantization)
        WHERE NOT l.is_mmproj AND l.total_bytes <= budget_bytes
    )
    WHERE choice = 1
    ORDER BY repo_id;

CREATE OR REPLACE MACRO changes_since(moment) AS TABLE
    SELECT h.changed_at, h.repo_id, h.change, h.old_sha, h.new_sha, h.run_id
    FROM model_history h
    WHERE h.changed_at >= CAST(moment AS TIMESTAMPTZ)
    ORDER BY h.changed_at, h.repo_id;
"""

# One row per repo: the facts a completeness score is made of (sync/completeness.py weighs them).
COMPLETENESS_FACTS_SQL = """
SELECT m.repo_id,
       coalesce(f.files, 0) AS files,
       coalesce(f.sized, 0) = coalesce(f.files, 0) AS file_sizes,
       coalesce(f.known_quant, 0) = coalesce(f.weights, 0) AND coalesce(f.weights, 0) > 0 AS quantization,
       m.architecture IS NOT NULL AS architecture,
       m.parameter_count IS NOT NULL AS parameter_count,
       m.context_length IS NOT NULL AS context_length,
       m.license IS NOT NULL AS license,
       coalesce(len(m.base_models), 0) > 0 AS base_models,
       m.pipeline_tag IS NOT NULL AS pipeline_tag
FROM models m
LEFT JOIN (
    SELECT repo_id, count(*) AS files, count(*) FILTER (WHERE size_bytes > 0) AS sized,
           count(*) FILTER (WHERE NOT is_mmproj) AS weights,
           count(*) FILTER (WHERE NOT is_mmproj AND quantization IS NOT NULL) AS known_quant
    FROM model_files GROUP BY repo_id
) f USING (repo_id)
"""
