"""Run a gate's committed expectation suites as SQL on DuckDB, and say what failed, plainly.

A gate is one JSON file under ``expectations/suites/``: reviewed like code, loaded into an
ephemeral GX context at run time, so a run never rewrites the committed configuration and
parallel tasks cannot corrupt it. The file lists validations; each names an asset (a table or
view of a DuckDB database, bound by the gate's module) and the expectations it must meet.

Great Expectations runs every expectation as SQL in DuckDB through its SQLAlchemy engine (see
``sql_adapter``): the rows stay in the engine, and what comes back to Python are aggregates and
at most ``partial_unexpected_count`` offending rows per expectation. The result store and the
Data Docs site live under ``DATA_DIR/quality``.

Personal data: GX keeps the offending values it fetched in its results and Data Docs, so a
suite never puts a row-level expectation on a column that holds personal data (free text,
e-mails, names); such rules are counted in SQL instead (see the operational gate). What reaches
an alert is scrubbed of e-mail addresses and phone numbers on top, and an expectation with
``"sample": false`` in its meta sends counts only.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dataplatform.alerting.scrub import scrub_value
from dataplatform.config import REPO_ROOT
from dataplatform.gates.workspace import plain

log = logging.getLogger(__name__)

SUITES_DIR = REPO_ROOT / "expectations" / "suites"
DATA_DOCS_SITE = "quality"
DATA_DOCS_INDEX_LIMIT = 50  # about four days of every gate's validations
# GX lists every stored validation result to build the Data Docs index, so its store keeps a
# month; each run's full result stays in DATA_DIR/quality/results/<date>/ regardless.
GX_STORE_RETENTION_DAYS = 30
# Offending values kept per failed expectation: enough to recognise the problem in an alert.
SAMPLE_SIZE = 5
SAMPLE_VALUE_CHARS = 120
# Every asset has a ``row_ref`` column that says which row it is (a date, a file and line), so
# each offending value comes with where it was found. GX computes the counts in the engine and
# fetches at most ``partial_unexpected_count`` offending rows, with LIMIT. The format is the
# checkpoint's, the same for every validation (GX ignores an expectation's own).
ROW_REF = "row_ref"
# The checkpoint counts offending rows and fetches none (LIMIT 0), so a passing gate costs one
# scan per asset; an expectation that failed is asked again for SAMPLE_FORMAT's few rows.
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "unexpected_index_column_names": [ROW_REF],
}
SAMPLE_FORMAT = {**RESULT_FORMAT, "partial_unexpected_count": 10}
# A vocabulary rule on a big table is checked on the column's distinct values: one GROUP BY,
# where the row-by-row form compares every row with every value of the set (0.1 s against
# 0.8 s for ten event types over 10 M events). When it fails, its row-level form is asked, for
# the count and a few of the offending rows.
ROW_LEVEL_FORM = {
    "expect_column_distinct_values_to_be_in_set": "expect_column_values_to_be_in_set",
}


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    observed: Any
    expected: dict
    why: str | None = None
    asset: str | None = None  # the table or view the expectation ran on
    unexpected_count: int | None = None  # offending rows, for row-level expectations
    sample: list[dict] = field(default_factory=list)  # a few offending rows, PII-free

    def describe(self) -> str:
        bounds = ", ".join(
            f"{k}={v}" for k, v in self.expected.items() if k not in ("column", "batch_id")
        )
        where = f" on {self.asset + '.' if self.asset else ''}{self.column or ''}".rstrip(".")
        where = "" if where == " on " else where
        return f"{self.expectation}{where}: observed {self.observed!r}, expected {bounds}"


@dataclass
class GateResult:
    suite: str
    success: bool
    evaluated: int
    failures: list[Failure] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    result_path: str | None = None
    docs_url: str | None = None  # the Data Docs page of the (first failed) validation
    engine: dict = field(default_factory=dict)  # DuckDB queries run, rows fetched to Python

    @property
    def offending_rows(self) -> int | None:
        """Rows that broke a row-level expectation, summed over the failures (None: no such
        failure, only aggregate metrics failed)."""
        counts = [f.unexpected_count for f in self.failures if f.unexpected_count is not None]
        return sum(counts) if counts else None

    @property
    def sample(self) -> list[dict]:
        """A few offending rows over all failures, each naming its asset and row."""
        rows = [{"asset": f.asset, **row} for f in self.failures for row in f.sample]
        return rows[:SAMPLE_SIZE]

    def to_json(self) -> dict:
        return {
            **asdict(self),
            "failures": [asdict(f) for f in self.failures],
            "offending_rows": self.offending_rows,
            "sample": self.sample,
        }


@dataclass(frozen=True)
class Asset:
    """What a gate validates in a DuckDB database: a table or view, or a query over them.

    Either way GX gets a query asset. For a table that is ``select * from <table>``: GX learns
    a table asset's columns through duckdb-engine's reflection, which emulates PostgreSQL's
    catalog at about half a second per table, while a query asset's columns come from running
    the query, which DuckDB streams (only the first rows are computed). GX then nests the query
    in every metric query, so it must not aggregate: aggregates go into a table of the gate's
    scratch database, computed once (see ``workspace``)."""

    database: Path | str  # the DuckDB file
    table: str | None = None
    schema: str | None = None
    query: str | None = None
    source: str = "warehouse"  # the GX datasource's name (one per database)
    # SQL naming a row for a person (a date; a file and line); shown next to offending values.
    row_ref: str = "null::varchar"

    def select(self) -> str:
        if self.query:
            source = f"({self.query})"
        elif self.table:
            source = f'"{self.schema}"."{self.table}"' if self.schema else f'"{self.table}"'
        else:
            raise ValueError("an Asset needs a table or a query")
        return f"select *, ({self.row_ref})::varchar as {ROW_REF} from {source} as rows"


def result_path(quality_dir: Path, label: str, suite: str) -> Path:
    """Where a gate run's result is kept: ``results/<label>/<suite>.json`` (label: the date)."""
    return quality_dir / "results" / label / f"{suite}.json"


def load_suite(name: str, overrides: Mapping[str, dict] | None = None) -> dict:
    """The gate's JSON; ``overrides`` maps an expectation's ``meta.id`` to kwargs to replace."""
    gate = json.loads((SUITES_DIR / f"{name}.json").read_text())
    for validation in gate["validations"]:
        for expectation in validation["expectations"]:
            extra = (overrides or {}).get(expectation.get("meta", {}).get("id", ""))
            if extra:
                expectation["kwargs"].update(extra)
    return gate


def run_gate(
    gate: dict,
    assets: Mapping[str, Asset],
    quality_dir: Path | None,
    label: str,
    parameters: Mapping[str, Any] | None = None,
    metrics: dict | None = None,
) -> GateResult:
    """Validate each of the gate's assets against its suite in one GX checkpoint; record the
    result under ``quality_dir`` and update the Data Docs site. ``parameters`` fill the suites'
    ``{"$PARAMETER": name}`` values (dates of the run); ``metrics`` are reported as they are."""
    if quality_dir is None:
        return _validate(gate, assets, None, label, parameters or {}, metrics or {})
    with _exclusive(quality_dir / ".gx.lock"):
        _prune_store(quality_dir / "validations", GX_STORE_RETENTION_DAYS)
        return _validate(gate, assets, quality_dir, label, parameters or {}, metrics or {})


def _prune_store(store: Path, days: int) -> None:
    """Delete GX's stored validation results older than ``days`` (their Data Docs pages and
    the gate's own result files stay)."""
    cutoff = time.time() - days * 86400
    for path in store.rglob("*.json") if store.is_dir() else ():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[None]:
    """One gate at a time writes the shared results store and Data Docs site."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _context(quality_dir: Path | None):
    """An ephemeral GX context (nothing committed is ever rewritten) whose suites, validation
    results and Data Docs site live under DATA_DIR/quality, so the site lists every gate's run.

    The suites are stored there too (a copy of the committed JSON, rewritten by each run): GX's
    Data Docs index drops the page of any suite its store does not hold, so with an in-memory
    store each gate would delete the other gates' pages."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )

    from dataplatform.gates.sql_adapter import cache_compiled_templates

    if quality_dir is None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False}
        return context
    cache_compiled_templates(quality_dir / "data_docs_templates")

    def filesystem(store_class: str, folder: str) -> dict:
        return {
            "class_name": store_class,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(quality_dir / folder),
            },
        }

    defaults = InMemoryStoreBackendDefaults()
    config = DataContextConfig(
        stores={
            **defaults.stores,
            "quality_suites": filesystem("ExpectationsStore", "expectations"),
            "quality_results": filesystem("ValidationResultsStore", "validations"),
        },
        expectations_store_name="quality_suites",
        validation_results_store_name="quality_results",
        store_backend_defaults=defaults,
        data_docs_sites={
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(quality_dir / "data_docs"),
                },
                # The index lists the latest validations only: GX reads every listed result to
                # build it, so an unbounded index would cost more with every day of history.
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": DATA_DOCS_INDEX_LIMIT,
                },
            }
        },
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = {"globally": False}
    return context


def _validate(
    gate: dict,
    assets: Mapping[str, Asset],
    quality_dir: Path | None,
    label: str,
    parameters: Mapping[str, Any],
    metrics: dict,
) -> GateResult:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    from dataplatform.gates.sql_adapter import DuckDBDatasource, UpdateDataDocsOnce

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = _context(quality_dir)
    # Each datasource is built whole, then added: GX re-serialises the context's whole
    # configuration on every change of a registered datasource (each asset, each batch
    # definition), which costs more than the validations of a small gate.
    sources: dict[str, DuckDBDatasource] = {}
    for validation in gate["validations"]:
        asset = assets[validation["asset"]]
        if asset.source not in sources:
            sources[asset.source] = DuckDBDatasource(
                name=asset.source, database=str(asset.database)
            )
        sources[asset.source].add_query_asset(
            name=validation["asset"], query=asset.select()
        ).add_batch_definition_whole_table("whole")
    definitions = []
    batches = {}
    try:
        sources = {
            name: context.data_sources.add_duckdb(datasource=s) for name, s in sources.items()
        }
        for validation in gate["validations"]:
            name = validation["asset"]
            batch = sources[assets[name].source].get_asset(name).get_batch_definition("whole")
            expectations = [
                ExpectationConfiguration(
                    type=item["type"], kwargs=copy.deepcopy(item["kwargs"]), meta=item.get("meta")
                ).to_domain_obj()
                for item in validation["expectations"]
            ]
            suite = context.suites.add_or_update(
                gx.ExpectationSuite(name=f"{gate['name']}.{name}", expectations=expectations)
            )
            batches[suite.name] = batch
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{suite.name}-{label}", data=batch, suite=suite)
                )
            )
        actions = [
            UpdateDataDocsOnce(
                name="data_docs",
                site_names=[DATA_DOCS_SITE],
                suites_changed_at=(SUITES_DIR / f"{gate['name']}.json").stat().st_mtime,
            )
        ]
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{gate['name']}-gate",
                validation_definitions=definitions,
                actions=actions if quality_dir is not None else [],
                result_format=RESULT_FORMAT,
            )
        )
        checkpoint_result = checkpoint.run(expectation_parameters=dict(parameters))
        outcomes = _with_samples(checkpoint_result, batches, dict(parameters))
    finally:
        usage = [source.usage() for source in sources.values()]
        engine_use = {
            "queries": sum(queries for queries, _ in usage),
            "rows_fetched": sum(rows for _, rows in usage),
        }
        for source in sources.values():
            source.dispose()
    log.info(
        "gate %s: %d validations ran as %d DuckDB queries; %d rows came back to Python",
        gate["name"],
        len(definitions),
        engine_use["queries"],
        engine_use["rows_fetched"],
    )

    failures: list[Failure] = []
    evaluated = 0
    first_failed = None
    for identifier, run in checkpoint_result.run_results.items():
        asset_name = run.suite_name.split(".", 1)[-1]
        evaluated += len(run.results)
        failed = [_failure(asset_name, r) for r in outcomes[identifier] if not r.success]
        if failed and first_failed is None:
            first_failed = identifier
        failures += failed
    result = GateResult(
        suite=gate["name"],
        success=bool(checkpoint_result.success),
        evaluated=evaluated,
        failures=failures,
        metrics=metrics,
        engine=engine_use,
    )
    if quality_dir is not None:
        path = result_path(quality_dir, label, gate["name"])
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "gate": result.to_json(),
            "great_expectations": [
                run.to_json_dict() for run in checkpoint_result.run_results.values()
            ],
        }
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        result.result_path = str(path)
        shown = first_failed or next(iter(checkpoint_result.run_results))
        urls = context.get_docs_sites_urls(resource_identifier=shown, site_name=DATA_DOCS_SITE)
        result.docs_url = urls[0]["site_url"] if urls else None
    return result


def _with_samples(checkpoint_result: Any, batches: Mapping[str, Any], parameters: dict) -> dict:
    """Each validation's expectation results, where a failed row-level expectation is replaced
    by its result asked again with SAMPLE_FORMAT: the same count, plus a few offending rows. A
    failed rule with a row-level form (ROW_LEVEL_FORM) is replaced by that form's result."""
    import great_expectations as gx

    outcomes = {}
    for identifier, run in checkpoint_result.run_results.items():
        results = list(run.results)
        again = {
            i: _sampling_config(r)
            for i, r in enumerate(results)
            if not r.success and ("unexpected_count" in r.result or _has_row_level_form(r))
        }
        if again:
            suite = gx.ExpectationSuite(
                name=f"{run.suite_name}.sample",
                expectations=[copy.copy(config.to_domain_obj()) for config in again.values()],
            )
            sampled = (
                batches[run.suite_name]
                .get_batch()
                .validate(suite, result_format=SAMPLE_FORMAT, expectation_parameters=parameters)
            )
            by_config = {_config_key(r.expectation_config): r for r in sampled.results}
            for i, config in again.items():
                results[i] = by_config.get(_config_key(config), results[i])
        outcomes[identifier] = results
    return outcomes


def _has_row_level_form(result: Any) -> bool:
    return result.expectation_config.type in ROW_LEVEL_FORM


def _sampling_config(result: Any) -> Any:
    """The configuration to ask again for offending rows: the expectation's own, or its
    row-level form (same kwargs and meta)."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    config = result.expectation_config
    if not _has_row_level_form(result):
        return config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    return ExpectationConfiguration(
        type=ROW_LEVEL_FORM[config.type], kwargs=kwargs, meta=config.meta
    )


def _config_key(config: Any) -> str:
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    return json.dumps([config.type, kwargs], sort_keys=True, default=str)


def _failure(asset: str, outcome: Any) -> Failure:
    """One failed expectation: what was observed against what was expected, and how many rows
    (with a few of them: where, and the offending values) broke it."""
    config = outcome.expectation_config
    meta = config.meta or {}
    details = outcome.result or {}
    count = details.get("unexpected_count")
    rows = _offending_rows(details)
    if outcome.exception_info and outcome.exception_info.get("raised_exception"):
        observed: Any = f"error: {outcome.exception_info.get('exception_message')}"
        count = None
    elif "observed_value" in details:
        observed = details["observed_value"]
    elif details.get("element_count") == 1 and count == 1:
        # A one-row metrics table: the offending value is the metric itself.
        values = details.get("partial_unexpected_list") or [None]
        observed, count, rows = values[0], None, []
    else:
        total = details.get("element_count") or 0
        percent = details.get("unexpected_percent")
        share = f" ({percent:.3g} %)" if percent else ""
        observed = f"{count or 0:,} of {total:,} rows{share}"
    keep = meta.get("sample", True)
    columns = [config.kwargs[k] for k in ("column", "column_A", "column_B") if config.kwargs.get(k)]
    return Failure(
        expectation=config.type,
        column=", ".join(columns) or None,
        observed=scrub_value(plain(observed)),
        expected={
            k: plain(v) for k, v in config.kwargs.items() if v is not None and k != "batch_id"
        },
        why=meta.get("why"),
        asset=asset,
        unexpected_count=count,
        sample=[scrub_value(_presentable(row)) for row in rows[:SAMPLE_SIZE]] if keep else [],
    )


def _offending_rows(details: dict) -> list[dict]:
    """The sampled offending rows as ``{"row": <row_ref>, <column>: <value>, ...}``."""
    indexed = details.get("partial_unexpected_index_list")
    if indexed:
        return [
            {"row": item.get(ROW_REF), **{k: v for k, v in item.items() if k != ROW_REF}}
            for item in indexed
        ]
    return [{"value": value} for value in details.get("partial_unexpected_list") or []]


def _presentable(row: dict) -> dict:
    """JSON-ready values (dates as ISO strings), long text clipped."""
    shown = {}
    for key, value in row.items():
        value = plain(value)
        if isinstance(value, str) and len(value) > SAMPLE_VALUE_CHARS:
            value = value[: SAMPLE_VALUE_CHARS - 1] + "…"
        shown[key] = value
    return shown
