"""The DuckDB catalogue: schema, chunked transactional writes, published snapshots."""
