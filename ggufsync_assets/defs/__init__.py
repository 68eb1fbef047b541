"""Everything Dagster: partitions, resources, assets, checks, schedules and sensors."""
