"""The DuckDB warehouse: schema, the single-writer path, snapshots."""
