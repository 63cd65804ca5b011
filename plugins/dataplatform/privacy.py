"""The pseudonymisation key: one place that reads it, for dbt's sessions and for publishing."""

from __future__ import annotations

import os

import duckdb

# Used only when PSEUDONYMISATION_KEY is unset: the demo must run from a fresh clone. A real
# deployment sets its own key (see .env.example); pseudonyms made with this one are not secret.
DEMO_KEY = "demo-only-key-not-secret"


def pseudonymisation_key() -> str:
    return os.environ.get("PSEUDONYMISATION_KEY") or DEMO_KEY


def prepare_session(conn: duckdb.DuckDBPyConnection) -> None:
    """Give a DuckDB session the key as a variable (never as SQL text), UTC as time zone, and
    the S3 lake's filesystem when ``LAKE_URL`` is set (views over the lake read through it)."""
    from dataplatform.storage import register_lake_filesystem

    register_lake_filesystem(conn)
    key = pseudonymisation_key().replace("'", "''")
    conn.execute(f"set variable pseudonymisation_key = '{key}'")
    conn.execute("set TimeZone = 'UTC'")
