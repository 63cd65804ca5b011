"""A dbt-duckdb plugin that prepares every dbt connection to DuckDB.

The pseudonymisation key reaches SQL as a DuckDB session variable, read here from the environment,
so it never appears in a model, in compiled SQL under ``target/`` or in dbt's logs.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from dataplatform.privacy import prepare_session


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        prepare_session(conn)

    def configure_cursor(self, cursor) -> None:
        # dbt-duckdb runs every query on a cursor, and a cursor does not inherit session
        # variables from its connection.
        prepare_session(cursor)
