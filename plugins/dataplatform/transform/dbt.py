"""Run dbt through ``dbtRunner`` (no shell strings), with arguments built by :func:`dbt_args`."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dataplatform.config import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
LAYERS = ("staging", "intermediate", "marts", "access")


class DbtError(RuntimeError):
    """dbt failed: the message names the failing nodes and dbt's own words."""


@dataclass(frozen=True)
class DbtPaths:
    warehouse: Path  # the working warehouse the candidate is built in (never served)
    target: Path
    logs: Path

    @classmethod
    def under(cls, data_dir: Path) -> DbtPaths:
        return cls(
            warehouse=data_dir / "warehouse" / "warehouse.duckdb",
            target=data_dir / "dbt" / "target",
            logs=data_dir / "dbt" / "logs",
        )


@dataclass
class DbtResult:
    command: str
    success: bool
    seconds: float
    nodes: list[dict] = field(default_factory=list)

    @property
    def failures(self) -> list[dict]:
        return [n for n in self.nodes if n["status"] in ("error", "fail", "runtime error")]


def dbt_args(
    command: str,
    *,
    select: Sequence[str] = (),
    run_date: date | None = None,
    version_id: str | None = None,
    full_refresh: bool = False,
    data_tests: bool = True,
    paths: DbtPaths,
) -> list[str]:
    """The argument list for one dbt invocation. A run without ``run_date`` rebuilds all.

    ``data_tests=False`` builds the models only: the pipeline's checks on the data are its Great
    Expectations gates, and dbt's data tests (a few hundred nodes, each a query of its own) run
    in ``make test`` against the demo world instead of in every run.
    """
    variables: dict[str, str] = {}
    if run_date is not None:
        variables["run_date"] = run_date.isoformat()
    if version_id is not None:
        variables["version_id"] = version_id
    args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(paths.target),
        "--log-path",
        str(paths.logs),
    ]
    if select:
        # cautious: a test runs with a layer only when everything it reads is in that layer
        # (a test across layers runs with the later one, once its inputs exist).
        args += ["--select", *select, "--indirect-selection", "cautious"]
    if command in ("build", "test"):
        # dbt's unit tests check the SQL, not the data: they run in `make test`, not in every run.
        excluded = ["test_type:unit"] if data_tests else ["test_type:unit", "test_type:data"]
        args += ["--exclude", *excluded]
    if variables:
        args += ["--vars", json.dumps(variables, sort_keys=True)]
    if full_refresh or (run_date is None and command in ("build", "run")):
        args.append("--full-refresh")
    return args


def dbt_env(data_dir: Path, paths: DbtPaths) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "DBT_DUCKDB_PATH": str(paths.warehouse),
        "DBT_TARGET_PATH": str(paths.target),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "true",
    }


def run_dbt(args: list[str], data_dir: Path) -> DbtResult:
    """Invoke dbt in this process; raise DbtError naming what failed."""
    from dbt.cli.main import dbtRunner

    paths = DbtPaths.under(data_dir)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(dbt_env(data_dir, paths))
    started = time.perf_counter()
    outcome = dbtRunner().invoke(args)
    nodes = []
    for node_result in getattr(outcome.result, "results", None) or []:
        nodes.append(
            {
                "name": node_result.node.name,
                "resource_type": str(node_result.node.resource_type),
                "status": str(node_result.status),
                "seconds": round(node_result.execution_time or 0.0, 3),
                "message": node_result.message,
            }
        )
    result = DbtResult(
        command=" ".join(args[:1]),
        success=bool(outcome.success),
        seconds=time.perf_counter() - started,
        nodes=nodes,
    )
    if not result.success:
        if outcome.exception is not None:
            raise DbtError(f"dbt {args[0]} could not run: {outcome.exception}")
        details = "; ".join(f"{n['name']}: {n['message']}" for n in result.failures)
        raise DbtError(f"dbt {args[0]} failed: {details or 'see the dbt log'}")
    return result
