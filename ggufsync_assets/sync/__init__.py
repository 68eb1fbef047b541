"""The steps of a sync, independent of Dagster: discovery, validation, files, completeness."""
