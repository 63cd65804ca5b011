"""The dbt invocations the pipeline makes, built by one tested function."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dataplatform.transform.dbt import DbtPaths, dbt_args

PATHS = DbtPaths.under(Path("/data"))


def _excluded(args: list[str]) -> list[str]:
    start = args.index("--exclude") + 1
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    return args[start:end]


def test_a_pipeline_layer_builds_its_models_incrementally_without_dbt_tests():
    args = dbt_args(
        "build",
        select=["path:models/staging"],
        run_date=date(2026, 11, 3),
        version_id="v1",
        data_tests=False,
        paths=PATHS,
    )
    assert args[0] == "build"
    assert args[args.index("--select") + 1] == "path:models/staging"
    assert args[args.index("--indirect-selection") + 1] == "cautious"
    assert sorted(_excluded(args)) == ["test_type:data", "test_type:unit"]
    assert '"run_date": "2026-11-03"' in args[args.index("--vars") + 1]
    assert "--full-refresh" not in args


def test_a_build_without_a_date_rebuilds_everything_and_keeps_the_data_tests():
    args = dbt_args("build", paths=PATHS)
    assert _excluded(args) == ["test_type:unit"]
    assert "--full-refresh" in args
    assert "--vars" not in args


def test_dbt_writes_its_target_and_logs_under_the_data_dir():
    args = dbt_args("run", run_date=date(2026, 11, 3), paths=PATHS)
    assert args[args.index("--target-path") + 1] == "/data/dbt/target"
    assert args[args.index("--log-path") + 1] == "/data/dbt/logs"
    assert "--exclude" not in args
