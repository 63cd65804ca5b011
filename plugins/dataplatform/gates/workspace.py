"""A gate's scratch DuckDB database: views over files, and one-row metrics tables.

Some checks are aggregates by nature (a quarantine ratio, a reconciliation count). Great
Expectations would run an aggregate query once per metric it needs, so a gate computes each
such row once, in DuckDB, into a table of its own scratch database, and GX validates that table.
The scratch file lives in a temporary folder for the length of one gate run: parallel gates
never share one, and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from dataplatform.privacy import prepare_session
from dataplatform.sql import sql_literal


@contextlib.contextmanager
def scratch_database(gate: str) -> Iterator[Path]:
    """The path of a fresh DuckDB file for one run of ``gate``; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"gate-{gate}-") as folder:
        yield Path(folder) / f"{gate}.duckdb"


def connect(database: Path | str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection configured as dbt's (one in-process instance per file, UTC)."""
    con = duckdb.connect(str(database))
    prepare_session(con)
    return con


def parquet_list(files: list[Path]) -> str:
    return "[" + ", ".join(sql_literal(str(f)) for f in sorted(files)) + "]"


def one_row(con: duckdb.DuckDBPyConnection, table: str) -> dict:
    """The metrics row of ``table`` (a handful of numbers), for the gate's report."""
    cursor = con.execute(f"select * from {table}")
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    return {name: plain(value) for name, value in zip(names, row or (), strict=False)}


def plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return float(value)
    return value
