"""Great Expectations' SQL engine on DuckDB, through duckdb-engine: the two fixes it needs.

GX 1.x has no DuckDB datasource; its generic SQL one (``add_sql``) with duckdb-engine returns
no rows at all (upstream great_expectations issues #10738 and #11579), so every expectation
fails with ``IndexError: list index out of range`` and an empty result. The cause is in
``SqlAlchemyExecutionEngine.execute_query``::

    with self.get_connection() as connection:      # engine.connect() for most dialects
        result = connection.execute(query)
    return result                                  # the caller then calls .fetchall()

Leaving the ``with`` closes the SQLAlchemy ``Connection``, and closing it rolls back the
transaction SQLAlchemy 2.0 began implicitly for the query (duckdb-engine's ``do_begin`` opens a
DuckDB transaction). duckdb-engine's cursor is the DuckDB connection itself ("closing cursors is
not supported in duckdb"), and a DuckDB ``rollback()`` discards the connection's pending result:
``fetchall()`` then returns ``[]``. (Checked: the rollback comes from ``Connection.close``, not
from the pool's reset-on-return, so ``pool_reset_on_return=None`` does not help.) GX keeps one
connection open for SQLite, SQL Server, BigQuery and Databricks, which is why those work.

Fix 1, ``DuckDBExecutionEngine.execute_query``: read the rows while the connection is still
checked out, and return them as a buffered ``Result`` with the same interface (``fetchall``,
``fetchmany``, ``fetchone``, ``scalar``, rows with ``_asdict``). Buffering costs nothing here:
every row-returning query GX issues in the result formats the gates use (BASIC, SUMMARY) is an
aggregate or carries a ``LIMIT`` (the partial unexpected list), so no table is read into
Python; the engine counts the rows it fetched (``rows_fetched``), and the gates log it.

Fix 2, ``share_instance``: duckdb-engine opens DuckDB with a ``custom_user_agent`` setting, and
DuckDB refuses a second connection to a database file that the same process already has open
with other settings ("Can't open a connection to same database file with a different
configuration"). dbt-duckdb keeps the warehouse open for the life of the process, and a
``make run`` executes dbt and the gates in one process. So the SQLAlchemy engine opens its DBAPI
connections the way the rest of the platform does (``duckdb.connect(path)`` plus the session
settings of ``privacy.prepare_session``: UTC, the pseudonymisation variable), wrapped in
duckdb-engine's own ``ConnectionWrapper`` so the dialect behaves as usual.

``DuckDBDatasource`` (``context.data_sources.add_duckdb(name, database=...)``) is GX's generic
SQL datasource with this engine; table and query assets work as documented for ``add_sql``.
If upstream fixes the result handling, ``tests/unit/test_gx_sql_adapter.py`` says so: its check
that the plain ``add_sql`` path still loses the rows starts failing, and fix 1 can go.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import duckdb
import sqlalchemy as sa
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.checkpoint.actions import ActionContext
from great_expectations.checkpoint.checkpoint import CheckpointResult
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
)
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.render.view.view import DefaultJinjaView
from jinja2 import FileSystemBytecodeCache

from dataplatform.privacy import prepare_session

IN_MEMORY = ":memory:"


def duckdb_url(database: str | Path) -> str:
    """The SQLAlchemy URL of a DuckDB database file (or ``:memory:``)."""
    return f"duckdb:///{database}"


def _database_of(engine: sa.Engine) -> str:
    return engine.url.database or IN_MEMORY


def share_instance(engine: sa.Engine) -> sa.Engine:
    """Make ``engine`` open DuckDB as the platform does, so that it shares the process's open
    database instance (dbt's) instead of being refused for differing settings."""
    from duckdb_engine import ConnectionWrapper

    database = _database_of(engine)

    def connect(dialect: Any, record: Any, cargs: tuple, cparams: dict) -> Any:
        connection = duckdb.connect(database)
        prepare_session(connection)
        return ConnectionWrapper(connection)

    if not sa.event.contains(engine, "do_connect", connect):
        sa.event.listen(engine, "do_connect", connect)
    return engine


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQLAlchemy execution engine, reading each result before its connection goes back.

    ``queries`` and ``rows_fetched`` count what GX asked DuckDB and how many rows came back to
    Python: the proof (and the log line) that validation stayed in the engine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        share_instance(self.engine)
        self.queries = 0
        self.rows_fetched = 0

    def _buffered(self, result: sa.CursorResult) -> sa.Result:
        """The rows of ``result``, read now, as a ``Result`` with the same fetch interface."""
        self.queries += 1
        if not result.returns_rows:
            return result
        frozen = result.freeze()
        self.rows_fetched += len(frozen.data)
        return frozen()

    def execute_query(self, query: sa.Selectable | sa.TextClause) -> sa.Result:
        with self.get_connection() as connection:
            return self._buffered(self._execute_query_with_recovery(connection, query))

    def execute_query_in_transaction(self, query: sa.Selectable) -> sa.Result:
        # GX uses this for temporary tables (not used by the gates): the same fix, the rows are
        # read before the commit ends the statement's result.
        with self.get_connection() as connection:
            result = self._buffered(self._execute_query_with_recovery(connection, query))
            if connection.in_transaction():
                connection.commit()
        return result


class DuckDBDatasource(SQLDatasource):
    """A DuckDB database file (or ``:memory:``) as a GX SQL datasource.

    ``database`` is the file; ``connection_string`` is derived from it. Everything else,
    table and query assets included, is GX's ``SQLDatasource``.
    """

    type: Literal["duckdb"] = "duckdb"  # type: ignore[assignment]
    connection_string: str = ""
    database: str = IN_MEMORY

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        if not self.connection_string:
            self.connection_string = duckdb_url(self.database)

    @property
    def execution_engine_type(self) -> type[SqlAlchemyExecutionEngine]:
        return DuckDBExecutionEngine

    @classmethod
    def _get_exec_engine_excludes(cls) -> set[str]:
        return super()._get_exec_engine_excludes() | {"database"}

    def _create_engine(self) -> sa.Engine:
        return share_instance(super()._create_engine())

    def usage(self) -> tuple[int, int]:
        """(queries run, rows fetched to Python) by this datasource's execution engine."""
        engine = self._execution_engine
        if not isinstance(engine, DuckDBExecutionEngine):
            return 0, 0
        return engine.queries, engine.rows_fetched

    def dispose(self) -> None:
        """Close every DuckDB connection this datasource opened (GX keeps them pooled)."""
        if self._execution_engine is not None:
            self._execution_engine.close()
        if self._engine is not None:
            self._engine.dispose()


_template_cache: FileSystemBytecodeCache | None = None


def cache_compiled_templates(directory: Path) -> None:
    """Keep the Data Docs templates compiled in ``directory``, for every page GX renders from
    now on in this process. GX renders each page with a new Jinja environment, which compiles
    every template again: most of a Data Docs update, and of a small gate's run. Jinja keys
    each compiled template by its source, so a GX upgrade cannot reuse a stale one."""
    global _template_cache
    directory.mkdir(parents=True, exist_ok=True)
    _template_cache = FileSystemBytecodeCache(str(directory))
    if getattr(DefaultJinjaView.__init__, "_uses_template_cache", False):
        return
    original = DefaultJinjaView.__init__

    def __init__(self: DefaultJinjaView, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.env.bytecode_cache = _template_cache

    __init__._uses_template_cache = True  # type: ignore[attr-defined]
    DefaultJinjaView.__init__ = __init__  # type: ignore[method-assign]


class UpdateDataDocsOnce(UpdateDataDocsAction):
    """GX's ``UpdateDataDocsAction``, building the site once for all of a checkpoint's
    validations. GX's own action builds it once per validation, and renders each suite's page
    again every time; each build compiles every template anew, about half a second per page.
    Here the validations' pages and the index are built in one go, and a suite's page only when
    it is missing or older than ``suites_changed_at`` (the committed suite file's mtime)."""

    type: Literal["update_data_docs_once"] = "update_data_docs_once"  # type: ignore[assignment]
    suites_changed_at: float = 0.0

    def run(
        self, checkpoint_result: CheckpointResult, action_context: ActionContext | None = None
    ) -> dict:
        identifiers: list = list(checkpoint_result.run_results)
        for result in checkpoint_result.run_results.values():
            suite = ExpectationSuiteIdentifier(name=result.suite_name)
            if self._page_is_stale(suite):
                identifiers.append(suite)
        self._build_data_docs(site_names=self.site_names, resource_identifiers=identifiers)
        return {
            identifier: {
                site["site_name"]: site["site_url"]
                for site in self._get_docs_sites_urls(
                    site_names=self.site_names, resource_identifier=identifier
                )
            }
            for identifier in checkpoint_result.run_results
        }

    def _page_is_stale(self, identifier: ExpectationSuiteIdentifier) -> bool:
        for site in self._get_docs_sites_urls(
            site_names=self.site_names, resource_identifier=identifier
        ):
            url = site["site_url"]
            if not url or not url.startswith("file://"):
                return True
            page = Path(unquote(urlsplit(url).path))
            if not page.exists() or page.stat().st_mtime < self.suites_changed_at:
                return True
        return False
