"""One benchmark stage, in a fresh interpreter: ``python -m bench.child STAGE ARGS...``.

The pipeline's stages call the same task bodies the DAGs call (``dataplatform.tasks``), with
``DATA_DIR`` from the environment, so the benchmark follows every change to the pipeline. The
modules a stage needs are imported before its clock starts (an Airflow task's worker has
Airflow loaded; the imports are in ``process_seconds``, not in ``seconds``). The last line of
standard output is the stage's result as JSON; lines starting with ``bench-progress:`` are shown
while the stage runs.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from bench.harness import PROGRESS
from dataplatform.transform.layers import DBT_TASKS

GATES = ("raw_gate", "operational_gate", "staging_gate", "marts_gate")
# The pipeline of one day in the DAGs' order, without the landing sensor and the docs.
DAY_STAGES = (
    "ingest",
    "raw_gate",
    "extract",
    "operational_gate",
    "dbt_staging",
    "staging_gate",
    "dbt_marts",
    "marts_gate",
    "publish",
)
# Imported before a stage's clock starts: loading Python code is not the stage's work. A module
# that is not there (yet, or any more) is skipped.
_GX = ["great_expectations", "dataplatform.gates.runner", "dataplatform.gates.sql_adapter"]
_DBT = ["dataplatform.transform.dbt", "dataplatform.publish.publish", "dbt.cli.main"]
_IMPORTS = {
    "ingest": ["dataplatform.ingest.batch"],
    "raw_gate": ["dataplatform.gates.raw", "dataplatform.ingest.batch", *_GX],
    "extract": ["dataplatform.extract.operational"],
    "operational_gate": [
        "dataplatform.gates.operational",
        "dataplatform.extract.operational",
        *_GX,
    ],
    "staging_gate": ["dataplatform.gates.warehouse", "dataplatform.transform.dbt", *_GX],
    "marts_gate": ["dataplatform.gates.warehouse", "dataplatform.transform.dbt", *_GX],
    "publish": ["dataplatform.publish.publish", "dataplatform.transform.dbt"],
    "docs": ["dataplatform.docs_site", *_DBT],
    **dict.fromkeys(DBT_TASKS, _DBT),
}


def progress(message: str) -> None:
    print(f"{PROGRESS}{message}", flush=True)


def report(**values) -> None:
    print(json.dumps(values, default=str), flush=True)


def _prepare(stage: str) -> None:
    importlib.import_module("dataplatform.tasks")
    for module in _IMPORTS.get(stage, []):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as missing:
            if missing.name != module:
                raise


def task_body(stage: str, ds: str, version_id: str | None = None) -> Callable[[], dict]:
    """The task body the DAG runs for ``stage`` on logical date ``ds``."""
    from dataplatform import tasks

    if stage in DBT_TASKS:
        return lambda: tasks.dbt_layer(ds, DBT_TASKS[stage], "transform", stage)
    bodies: dict[str, Callable[[], dict]] = {
        "ingest": lambda: tasks.ingest_events(ds),
        "raw_gate": lambda: tasks.raw_gate(ds, "ingest_events", "raw_gate"),
        "extract": lambda: tasks.extract_operational(ds, "extract_operational", "extract"),
        "operational_gate": lambda: tasks.operational_gate(
            ds, "extract_operational", "operational_gate"
        ),
        "staging_gate": lambda: tasks.warehouse_gate(ds, "staging", "transform", "staging_gate"),
        "marts_gate": lambda: tasks.warehouse_gate(ds, "marts", "transform", "marts_gate"),
        "publish": lambda: tasks.publish(ds),
        "docs": lambda: tasks.dbt_docs(ds, version_id or "", "transform", "dbt_docs"),
    }
    return bodies[stage]


def _brief(outcome: dict) -> dict:
    """The scalar parts of a task's return value (not per-file details or metrics)."""
    keep = {}
    for key, value in (outcome or {}).items():
        if isinstance(value, str | int | float | bool) or value is None:
            keep[key] = value
    return keep


def run_task(stage: str, ds: str, version_id: str | None = None) -> None:
    _prepare(stage)
    body = task_body(stage, ds, version_id)
    started = time.perf_counter()
    outcome = body()
    seconds = time.perf_counter() - started
    report(stage=stage, seconds=round(seconds, 3), result=_brief(outcome))


def generate(world: str, days: str, events_per_day: str, start: str, seed: str) -> None:
    import pyarrow as pa

    pa.array([0])  # load Arrow's compute kernels (and pandas, which it imports) before timing
    from dataplatform.generator import generate_world

    started = time.perf_counter()
    summary = generate_world(
        Path(world),
        days=int(days),
        users=1000,
        seed=int(seed),
        start_date=date.fromisoformat(start),
        events_per_day=int(events_per_day),
    )
    seconds = time.perf_counter() - started
    report(
        stage="generate",
        seconds=round(seconds, 3),
        events=summary.lines,
        distinct_events=summary.events,
        files=summary.files,
        users=summary.users,
        days=int(days),
    )


def bare_ingest(folder: str, target: str) -> None:
    """The ingest limit: DuckDB's own read_json → Parquet on the same landing files."""
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        f"copy (select * from read_json(['{folder}/*.jsonl', '{folder}/*.jsonl.gz'], "
        f"format = 'newline_delimited')) to '{target}' (format parquet)"
    )
    seconds = time.perf_counter() - started
    events = con.execute(f"select count(*) from '{target}'").fetchone()[0]
    report(stage="bare_ingest", seconds=round(seconds, 3), events=events)


def bare_transform(sql_file: str, raw_glob: str, lake_dir: str) -> None:
    """The transform limit: one DuckDB script computing the marts from the raw Parquet files."""
    import duckdb

    script = Path(sql_file).read_text().replace("{raw}", raw_glob).replace("{lake}", lake_dir)
    con = duckdb.connect()
    started = time.perf_counter()
    for statement in [s for s in script.split(";") if s.strip()]:
        con.execute(statement)
    report(stage="bare_transform", seconds=round(time.perf_counter() - started, 3))


def airflow_init() -> None:
    """Create the fresh Airflow metadata database (once; not part of a day's run)."""
    started = time.perf_counter()
    from airflow.utils import db

    db.initdb()
    report(stage="airflow_init", seconds=round(time.perf_counter() - started, 3))


def airflow_run(ds: str) -> None:
    """The whole pipeline of one day through Airflow, as ``make run DATE=ds`` runs it."""
    from dataplatform import orchestration

    def echo(result) -> None:
        state = "ok" if result.ok else "FAILED"
        progress(f"  {state} {result.dag_id} {result.seconds:.1f}s")

    orchestration._report = echo  # one progress line per DAG run instead of its own print
    started = time.perf_counter()
    results = orchestration.run_dates([date.fromisoformat(ds)])
    seconds = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed or len(results) != len(orchestration.PIPELINE):
        first = failed[0] if failed else None
        raise SystemExit(
            f"the Airflow run of {ds} did not succeed: "
            f"{first.dag_id if first else 'a DAG did not run'}, tasks "
            f"{first.failed_tasks if first else ()}, log {first.log_file if first else ''}"
        )
    report(
        stage="airflow_run",
        seconds=round(seconds, 3),
        dag_runs={r.dag_id: round(r.seconds, 3) for r in results},
        dag_runs_seconds=round(sum(r.seconds for r in results), 3),
        tasks=_task_durations(),
    )


def _task_durations() -> dict[str, float]:
    """Each task's duration as Airflow recorded it in the metadata database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance.dag_id, TaskInstance.task_id, TaskInstance.duration)
        return {f"{d}.{t}": round(s or 0.0, 3) for d, t, s in rows}


def dag_parse(path: str) -> None:
    """Parse one DAG file the way Airflow's DAG processor does: a DagBag of that file, in a
    process that has Airflow loaded but not the file's own imports."""
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    seconds = time.perf_counter() - started
    if bag.import_errors:
        raise SystemExit(f"{path} failed to import: {bag.import_errors}")
    stats = [s.duration.total_seconds() for s in bag.dagbag_stats]
    report(
        stage="dag_parse",
        file=Path(path).name,
        seconds=round(seconds, 3),
        airflow_seconds=round(sum(stats), 3),
        dags=sorted(bag.dag_ids),
    )


def days(start: str, count: str) -> None:
    """``count`` consecutive days from ``start``, in order, every stage of :data:`DAY_STAGES` as
    the DAGs run it, in this one process (as ``make demo`` runs them); a progress line per day."""
    for stage in DAY_STAGES:
        _prepare(stage)
    first = date.fromisoformat(start)
    per_day: dict[str, dict[str, float]] = {}
    events: dict[str, int] = {}
    for offset in range(int(count)):
        ds = (first + timedelta(days=offset)).isoformat()
        times: dict[str, float] = {}
        for stage in DAY_STAGES:
            started = time.perf_counter()
            outcome = task_body(stage, ds)()
            times[stage] = round(time.perf_counter() - started, 3)
            if stage == "ingest":
                events[ds] = outcome["records_read"]
        per_day[ds] = times
        incremental = sum(v for k, v in times.items() if k not in ("ingest", "extract"))
        progress(
            f"  {ds}: ingest {times['ingest']:.1f} s, "
            f"transform + gates + publish {incremental:.1f} s"
        )
    report(stage="days", per_day=per_day, events=events)


STAGES: dict[str, Callable[..., None]] = {
    "generate": generate,
    "bare_ingest": bare_ingest,
    "bare_transform": bare_transform,
    "airflow_init": airflow_init,
    "airflow_run": airflow_run,
    "dag_parse": dag_parse,
    "days": days,
}


def main(argv: list[str]) -> None:
    stage, *args = argv
    if stage in STAGES:
        STAGES[stage](*args)
    else:
        run_task(stage, *args)


if __name__ == "__main__":
    main(sys.argv[1:])
