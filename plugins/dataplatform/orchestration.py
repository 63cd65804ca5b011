"""The one Airflow-facing module of the package: runs the platform's DAGs for logical dates.

``make run`` and ``make demo`` go through here. Each DAG runs with ``DAG.test()``: a real Airflow
run recorded in the metadata database (it shows in the UI's history), executed in this process so
that Airflow starts once for a whole demo instead of once per DAG and date. Airflow's own output
goes to a log file per run; the terminal gets one line per run and, on failure, the alert.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from dataplatform.alerts import read_alerts
from dataplatform.config import load_settings

# The pipeline of one logical date, in dependency order. In production the later stages are
# asset-scheduled; running them here in order for the same date gives the same result.
PIPELINE: tuple[str, ...] = ("ingest_events", "extract_operational", "transform")


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    logical_date: date
    state: str
    seconds: float
    failed_tasks: tuple[str, ...]
    log_file: Path
    alerts: tuple[dict, ...] = ()

    @property
    def ok(self) -> bool:
        return self.state == "success"


@contextlib.contextmanager
def _output_to(log_file: Path) -> Iterator[None]:
    """Send everything written to stdout/stderr, by Python or by C code, to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _prepare_airflow(log_file: Path) -> dict:
    with _output_to(log_file):
        from airflow.dag_processing.dagbag import DagBag
        from airflow.utils import db

        db.initdb()  # create or migrate the SQLite metadata database; idempotent
        return DagBag(dag_folder=os.environ.get("AIRFLOW__CORE__DAGS_FOLDER"))


def run_dates(dates: Sequence[date], dag_ids: Sequence[str] = PIPELINE) -> list[DagRunResult]:
    """Run every DAG of the pipeline for each date in order; a date stops at its first failure."""
    settings = load_settings()
    logs = settings.data_dir / "logs" / "runs"
    print(f"    (Airflow's output: {logs}/)", flush=True)
    bag = _prepare_airflow(logs / "airflow-setup.log")
    if bag.import_errors:
        errors = "; ".join(
            f"{path}: {err.strip().splitlines()[-1]}" for path, err in bag.import_errors.items()
        )
        raise RuntimeError(f"DAG files failed to import: {errors}")
    for dag_id in dag_ids:
        # An interactive run fails fast: Airflow's retries (and the landing wait built on them)
        # serve the scheduler, not a person waiting at a terminal.
        for task in bag.get_dag(dag_id).tasks:
            task.retries = 0
    results: list[DagRunResult] = []
    for day in dates:
        logical = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for dag_id in dag_ids:
            log_file = logs / f"{dag_id}-{day.isoformat()}.log"
            log_file.unlink(missing_ok=True)
            alerts_before = len(read_alerts(settings.alerts_file))
            started = time.perf_counter()
            started_at = datetime.now(UTC)
            with _output_to(log_file):
                run = bag.get_dag(dag_id).test(
                    logical_date=logical, run_conf={"date": day.isoformat()}
                )
                failed = tuple(
                    ti.task_id
                    for ti in run.get_task_instances()
                    if ti.state in ("failed", "upstream_failed")
                )
                _settle(dag_id, run.run_id, started_at)
            result = DagRunResult(
                dag_id=dag_id,
                logical_date=day,
                state=str(getattr(run.state, "value", run.state)),
                seconds=time.perf_counter() - started,
                failed_tasks=failed,
                log_file=log_file,
                alerts=tuple(read_alerts(settings.alerts_file)[alerts_before:]),
            )
            results.append(result)
            _report(result)
            if not result.ok:
                break
    return results


def _settle(dag_id: str, run_id: str, started_at: datetime) -> None:
    """Leave the metadata database as if the scheduler had run this DAG for the date.

    ``DAG.test()`` dates the run's start at its logical date (the UI would show a duration of
    weeks): it gets the time it really started. And the asset events of the day's lake DAGs
    stay queued for ``transform`` (``AssetDagRunQueue``) although this process has just run
    it for them: the scheduler would start it once more for the same batch on ``make up``.
    The scheduler empties that queue when it starts the run the events trigger; so does this.
    """
    from airflow import settings
    from airflow.models.asset import AssetDagRunQueue
    from airflow.models.dagrun import DagRun
    from sqlalchemy import delete, update

    with settings.Session() as session:
        session.execute(
            update(DagRun)
            .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
            .values(start_date=started_at)
        )
        session.execute(delete(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == dag_id))
        session.commit()


def _report(result: DagRunResult) -> None:
    mark = "ok    " if result.ok else "FAILED"
    print(f"  {mark} {result.logical_date}  {result.dag_id:<22} {result.seconds:6.1f}s", flush=True)
    if result.ok:
        return
    for alert in result.alerts:
        print(f"         alert: {alert['summary']}")
        for failure in alert.get("details", {}).get("failures", []):
            print(f"           - {failure}")
    if not result.alerts:
        print(f"         failed tasks: {', '.join(result.failed_tasks) or 'none recorded'}")
    print(f"         log: {result.log_file}", flush=True)
