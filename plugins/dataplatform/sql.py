"""Values and names written into DuckDB SQL text, where a prepared parameter cannot go: paths
in DDL and table functions, names of tables and columns, SQL built from rules."""

from __future__ import annotations


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a table or column name)."""
    return '"' + name.replace('"', '""') + '"'
