"""Run a committed expectation suite with Great Expectations and say what failed, plainly.

The suites are JSON under ``expectations/suites/``: reviewed like code, loaded into an ephemeral
GX context at run time, so a run never rewrites the committed configuration and parallel tasks
cannot corrupt it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dataplatform.config import REPO_ROOT

SUITES_DIR = REPO_ROOT / "expectations" / "suites"


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


def validate_frame(suite: dict, frame: Any, results_dir: Path | None, label: str) -> GateResult:
    """Validate a small pandas frame of already-aggregated metrics (the aggregation ran in the
    engine, so no large table is ever loaded here)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
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
    run = definition.run(batch_parameters={"dataframe": frame})
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
    if results_dir is not None:
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{suite['name']}-{label}.json"
        payload = {"gate": result.to_json(), "great_expectations": run.to_json_dict()}
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        result.result_path = str(path)
    return result
