"""Run a committed expectation suite with Great Expectations and say what failed, plainly.

The suites are JSON under ``expectations/suites/``: reviewed like code, loaded into an ephemeral
GX context at run time, so a run never rewrites the committed configuration and parallel tasks
cannot corrupt it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dataplatform.config import REPO_ROOT

SUITES_DIR = REPO_ROOT / "expectations" / "suites"
DATA_DOCS_SITE = "quality"


@dataclass(frozen=True)
class Failure:
    expectation: str
    column: str | None
    observed: Any
    expected: dict
    why: str | None = None

    def describe(self) -> str:
        bounds = ", ".join(
            f"{k}={v}" for k, v in self.expected.items() if k not in ("column", "batch_id")
        )
        where = f" on {self.column}" if self.column else ""
        return f"{self.expectation}{where}: observed {self.observed!r}, expected {bounds}"


@dataclass
class GateResult:
    suite: str
    success: bool
    evaluated: int
    failures: list[Failure] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    result_path: str | None = None
    docs_url: str | None = None  # this validation's page in the Data Docs site

    def to_json(self) -> dict:
        return {**asdict(self), "failures": [asdict(f) for f in self.failures]}


def load_suite(name: str, overrides: dict[str, dict] | None = None) -> dict:
    """The suite's JSON; ``overrides`` maps an expectation's ``meta.id`` to kwargs to replace."""
    path = SUITES_DIR / f"{name}.json"
    suite = json.loads(path.read_text())
    for expectation in suite["expectations"]:
        extra = (overrides or {}).get(expectation.get("meta", {}).get("id", ""))
        if extra:
            expectation["kwargs"].update(extra)
    return suite


def _observed(result: Any) -> Any:
    details = result.result or {}
    if "observed_value" in details:
        return details["observed_value"]
    unexpected = details.get("partial_unexpected_list") or []
    # Gates validate one row of metrics: the offending value itself is what a person wants.
    return unexpected[0] if len(unexpected) == 1 else unexpected


@contextlib.contextmanager
def _exclusive(lock_file: Path):
    """One gate at a time writes the shared results store and Data Docs site."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _context(quality_dir: Path | None):
    """An ephemeral GX context (nothing committed is ever rewritten) whose validation results
    and Data Docs site live under DATA_DIR/quality, so the site lists every run."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    if quality_dir is None:
        return context
    context.add_store(
        "quality_results",
        {
            "class_name": "ValidationResultsStore",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(quality_dir / "validations"),
            },
        },
    )
    context.variables.validation_results_store_name = "quality_results"
    context.variables.data_docs_sites = {}
    context.add_data_docs_site(
        DATA_DOCS_SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(quality_dir / "data_docs"),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def validate_frame(suite: dict, frame: Any, quality_dir: Path | None, label: str) -> GateResult:
    """Validate a small pandas frame of already-aggregated metrics (the aggregation ran in the
    engine, so no large table is ever loaded here); record the result and update Data Docs."""
    if quality_dir is None:
        return _validate(suite, frame, None, label)
    with _exclusive(quality_dir / ".gx.lock"):
        return _validate(suite, frame, quality_dir, label)


def _validate(suite: dict, frame: Any, quality_dir: Path | None, label: str) -> GateResult:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = _context(quality_dir)
    gx_suite = context.suites.add(gx.ExpectationSuite(name=suite["name"]))
    for item in suite["expectations"]:
        gx_suite.add_expectation_configuration(
            ExpectationConfiguration(
                type=item["type"], kwargs=item["kwargs"], meta=item.get("meta")
            )
        )
    gx_suite.save()
    batch = (
        context.data_sources.add_pandas("metrics")
        .add_dataframe_asset(suite["name"])
        .add_batch_definition_whole_dataframe("whole")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite['name']}-{label}", data=batch, suite=gx_suite)
    )
    actions = [UpdateDataDocsAction(name="data_docs", site_names=[DATA_DOCS_SITE])]
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite['name']}-gate",
            validation_definitions=[definition],
            actions=actions if quality_dir is not None else [],
        )
    )
    checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame})
    identifier, run = next(iter(checkpoint_result.run_results.items()))
    failures = [
        Failure(
            expectation=r.expectation_config.type,
            column=r.expectation_config.kwargs.get("column"),
            observed=_observed(r),
            expected={
                k: v
                for k, v in r.expectation_config.kwargs.items()
                if v is not None and k != "batch_id"
            },
            why=(r.expectation_config.meta or {}).get("why"),
        )
        for r in run.results
        if not r.success
    ]
    result = GateResult(
        suite=suite["name"],
        success=bool(run.success),
        evaluated=len(run.results),
        failures=failures,
        metrics=json.loads(frame.to_json(orient="records", date_format="iso"))[0]
        if len(frame) == 1
        else {},
    )
    if quality_dir is not None:
        results_dir = quality_dir / "results" / label
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{suite['name']}.json"
        payload = {"gate": result.to_json(), "great_expectations": run.to_json_dict()}
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        result.result_path = str(path)
        urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=DATA_DOCS_SITE)
        result.docs_url = urls[0]["site_url"] if urls else None
    return result
