"""A dbt-duckdb plugin that prepares every dbt connection to DuckDB.

The pseudonymisation key reaches SQL as a DuckDB session variable, read here from the environment,
so it never appears in a model, in compiled SQL under ``target/`` or in dbt's logs.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

# Used only when PSEUDONYMISATION_KEY is unset: the demo must run from a fresh clone. A real
# deployment sets its own key (see .env.example); pseudonyms made with this one are not secret.
DEMO_KEY = "demo-only-key-not-secret"


def pseudonymisation_key() -> str:
    return os.environ.get("PSEUDONYMISATION_KEY") or DEMO_KEY


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        key = pseudonymisation_key().replace("'", "''")
        conn.execute(f"set variable pseudonymisation_key = '{key}'")
        conn.execute("set TimeZone = 'UTC'")
