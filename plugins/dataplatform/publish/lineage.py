"""What a published view's rows are made of, so that publishing can tell which of its buckets
may have changed without reading them.

dbt's manifest says which views an access view reads through and which tables they read
(:func:`read_lineage`). Among those tables, the *sources* of a segmented table
(``Segmenting.sources``) are kept by the same key and carry a ``row_hash`` column, the hash of
each row's content as dbt built it (its bookkeeping columns aside, :data:`BOOKKEEPING`, which
no view of the lineage may show): the view's rows of one bucket of the key are made of the
sources' rows of that bucket only (they are joined on the key), with the other tables of the
lineage whole (small ones, such as the categories). So a bucket's *signature*
(:func:`bucket_signatures`), over the sources' row hashes in that bucket, the text of every view
in the lineage, the other tables' content, the pseudonymisation key and the DuckDB version, is
the same only if the bucket's rows are: publishing reads the rows of the buckets whose signature
is new, not all of history. Whatever the manifest cannot tell (a dbt source read as files, a
node it does not know, a view that shows bookkeeping) leaves the table without signatures, and
publishing reads all of it, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dataplatform.privacy import pseudonymisation_key
from dataplatform.sql import quote_identifier, sql_literal

log = logging.getLogger(__name__)

ROW_HASH = "row_hash"
# The columns a row_hash leaves out (dbt_project/macros/row_hash.sql): bookkeeping that changes
# when a row is rebuilt with the same content. No view of a lineage may show them.
BOOKKEEPING = ("last_batch_date",)
# Materializations that dbt stores as tables (their rows are what the lineage reads).
_TABLES = ("table", "incremental", "seed", "snapshot")


@dataclass(frozen=True)
class Lineage:
    views: tuple[tuple[str, str], ...]  # (schema, name): the view itself and those it reads
    tables: tuple[tuple[str, str], ...]  # (schema, name): the tables those views read


def read_lineage(dbt_manifest: Path | None) -> dict[tuple[str, str], Lineage]:
    """Each view's lineage by (schema, name), from dbt's ``manifest.json``; a view whose
    lineage reaches something that is neither a view nor a table of the warehouse is left
    out. Empty when there is no readable manifest."""
    if dbt_manifest is None:
        return {}
    try:
        manifest = json.loads(dbt_manifest.read_text())
        nodes, parents = manifest["nodes"], manifest["parent_map"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("no lineage from %s (%s): publishing reads every row", dbt_manifest, err)
        return {}

    def relation(uid: str) -> tuple[str, str] | None:
        node = nodes.get(uid) or {}
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            return None
        return node.get("schema"), node.get("alias") or node.get("name")

    def kind(uid: str) -> str | None:
        return ((nodes.get(uid) or {}).get("config") or {}).get("materialized")

    found = {}
    for uid in nodes:
        if kind(uid) != "view" or relation(uid) is None:
            continue
        views, tables, pending, seen, complete = [], [], [uid], set(), True
        while pending and complete:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            where, materialized = relation(current), kind(current)
            if where is None:
                complete = False  # a dbt source (files) or something unknown
            elif materialized == "view":
                views.append(where)
                pending += parents.get(current, [])
            elif materialized == "ephemeral":
                pending += parents.get(current, [])  # compiled into the views that read it
            elif materialized in _TABLES:
                tables.append(where)
            else:
                complete = False
        if complete:
            found[relation(uid)] = Lineage(tuple(sorted(views)), tuple(sorted(tables)))
    return found


def _columns_query(schema: str, name: str) -> str:
    # The schema as a literal, not a prepared parameter: DuckDB then pushes the filter down.
    return (
        "select column_name, data_type from information_schema.columns where table_catalog = "
        f"current_database() and table_schema = {sql_literal(schema)} "
        f"and table_name = {sql_literal(name)} order by ordinal_position"
    )


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[tuple[str, str]]:
    """The columns of a table or view of the current database and their types, in order."""
    return con.execute(_columns_query(schema, name)).fetchall()


def digest(value: object) -> str:
    """sha256 of the value as JSON (keys sorted, anything else as text)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def bucket_signatures(
    con: duckdb.DuckDBPyConnection,
    lineage: Lineage,
    key: str,
    bucket: int,
    sources: tuple[str, ...],
    placeholders: dict[str, str],
    reads: dict[str, list] | None = None,
) -> dict[int | None, str] | None:
    """A signature per bucket of ``key`` (``key // bucket``) of the rows a view with this
    lineage has in that bucket (see the module's docstring); None when a named source has no
    key or no ``row_hash``. ``placeholders`` replaces values in the views' text that change
    with every version but not the rows (the version id of a stamped column, which publishing
    takes apart). ``reads`` keeps what was read of the catalog and the tables for the next call
    of the same publish: several role views read the same views and sources."""
    reads = {} if reads is None else reads

    def read(query: str) -> list:
        if query not in reads:
            reads[query] = con.execute(query).fetchall()
        return reads[query]

    def column_names(schema: str, name: str) -> set[str]:
        return {column.lower() for column, _ in read(_columns_query(schema, name))}

    common: list[object] = [duckdb.__version__, digest(["key", pseudonymisation_key()])]
    for schema, name in lineage.views:
        found = read(
            "select sql from duckdb_views() where database_name = current_database() "
            f"and schema_name = {sql_literal(schema)} and view_name = {sql_literal(name)}"
        )
        if not found:
            return None
        sql = found[0][0]
        if any(column in sql.lower() for column in BOOKKEEPING) or (
            column_names(schema, name) & set(BOOKKEEPING)
        ):
            return None  # the row hashes leave out what this view shows
        for value, placeholder in placeholders.items():
            sql = sql.replace(value, placeholder)
        common.append([schema, name, sql])
    per_bucket: dict[int | None, list] = defaultdict(list)
    for schema, name in lineage.tables:
        table = f"{quote_identifier(schema)}.{quote_identifier(name)}"
        if name in sources:
            columns = column_names(schema, name)
            if key.lower() not in columns or ROW_HASH not in columns:
                return None
            column = quote_identifier(key)
            for number, rows, hashes in read(
                f"select {column} // {bucket}, count(*), sum({ROW_HASH}) from {table} group by 1"
            ):
                per_bucket[number].append([schema, name, rows, str(hashes)])
        else:  # read whole by every bucket: its content is part of every signature
            ((rows, hashes),) = read(f"select count(*), sum(hash(t)) from {table} as t")
            common.append([schema, name, rows, str(hashes)])
    shared = digest(common)
    return {number: digest([shared, number, sorted(parts)]) for number, parts in per_bucket.items()}
