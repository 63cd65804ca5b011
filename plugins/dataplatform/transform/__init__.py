"""dbt runs on DuckDB: arguments built by tested functions, run through dbt's Python entry point."""
