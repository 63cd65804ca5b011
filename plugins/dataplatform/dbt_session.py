"""A dbt-duckdb plugin that prepares every dbt connection to DuckDB.

The pseudonymisation key reaches SQL as a DuckDB session variable, read here from the environment,
so it never appears in a model, in compiled SQL under ``target/`` or in dbt's logs.

With an S3 lake (``LAKE_URL=s3://...``) the connection gets the lake's s3fs filesystem, so the
sources' ``read_parquet('s3://...')`` read the bucket (DuckDB's httpfs extension cannot be
downloaded on these machines); credentials stay in the environment, never in the profile.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from dataplatform.privacy import prepare_session
from dataplatform.storage import register_lake_filesystem


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        register_lake_filesystem(conn)
        prepare_session(conn)

    def configure_cursor(self, cursor) -> None:
        # dbt-duckdb runs every query on a cursor, and a cursor does not inherit session
        # variables from its connection.
        prepare_session(cursor)
