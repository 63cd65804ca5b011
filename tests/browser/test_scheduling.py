"""After ``make demo``, the scheduler carries on from the demo's dates, and a date a user triggers
covers that date: checked on the metadata database that ``make up``'s scheduler and api-server
read, with the scheduler's own run-creation step and the api-server's REST API.

Running the scheduler itself would start tasks; its decision is ``_create_dag_runs`` (each loop
calls it for the DAGs that are due), run here on a copy of the one-day world's database.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest

pytestmark = pytest.mark.slow

DAILY = ("ingest_events", "extract_operational")
FIRST_DAY = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
DAY = timedelta(days=1)

# Four scheduler loops' worth of run creation for the daily DAGs, then what the database holds.
SCHEDULER_STEP = """
import json, sys
from airflow.jobs.job import Job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
from sqlalchemy import select

dag_ids = sys.argv[1].split(",")
runner = SchedulerJobRunner(job=Job())
for _ in range(4):
    with create_session() as session:
        due = session.scalars(select(DagModel).where(DagModel.dag_id.in_(dag_ids))).all()
        runner._create_dag_runs(due, session)
with create_session() as session:
    runs = [
        {
            "dag_id": run.dag_id,
            "run_type": str(getattr(run.run_type, "value", run.run_type)),
            "logical_date": run.logical_date.isoformat(),
            "interval": [run.data_interval_start.isoformat(), run.data_interval_end.isoformat()],
        }
        for run in session.scalars(select(DagRun).where(DagRun.dag_id.in_(dag_ids)))
    ]
    models = session.scalars(select(DagModel).where(DagModel.dag_id.in_(dag_ids))).all()
    next_runs = {model.dag_id: model.next_dagrun.isoformat() for model in models}
print("RESULT " + json.dumps({"runs": runs, "next": next_runs}))
"""


def test_the_scheduler_carries_on_after_the_demo(ui_world, tmp_path):
    copy = tmp_path / "airflow.db"
    with (
        sqlite3.connect(ui_world.data_dir / "airflow" / "airflow.db") as source,
        sqlite3.connect(copy) as target,
    ):
        source.backup(target)  # consistent while the api-server has the database open
    env = {**ui_world.env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{copy}"}
    step = subprocess.run(
        [sys.executable, "-c", SCHEDULER_STEP, ",".join(DAILY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert step.returncode == 0, step.stdout[-2000:] + step.stderr[-3000:]
    result = json.loads(step.stdout.rsplit("RESULT ", 1)[1])
    for dag_id in DAILY:
        runs = [r for r in result["runs"] if r["dag_id"] == dag_id]
        demo = [r for r in runs if r["run_type"] == "manual"]
        scheduled = [r for r in runs if r["run_type"] == "scheduled"]
        # The demo's runs (DAG.test, manual; the bad day's ingest_events failed) each cover
        # their own day, as a scheduled run would ...
        assert demo, f"no run of make demo for {dag_id}"
        for run in demo:
            day = datetime.fromisoformat(run["logical_date"])
            assert run["interval"] == [day.isoformat(), (day + DAY).isoformat()], run
        # ... so the scheduler goes on with the day after the demo's last, instead of meeting
        # a demo date again every loop (where it stayed: "run already exists").
        next_day = max(datetime.fromisoformat(r["logical_date"]) for r in demo) + DAY
        first = min(scheduled, key=lambda r: r["logical_date"], default=None)
        assert first, f"the scheduler created no run after the demo's dates for {dag_id}"
        assert first["logical_date"] == next_day.isoformat(), (dag_id, runs)
        assert first["interval"] == [next_day.isoformat(), (next_day + DAY).isoformat()]
        assert result["next"][dag_id] > next_day.isoformat()


def _token(ui_world) -> str:
    response = httpx.post(
        f"{ui_world.base_url}/auth/token",
        json={"username": ui_world.user, "password": ui_world.password},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def test_a_date_triggered_through_the_api_covers_that_date(ui_world):
    day = FIRST_DAY + 4 * DAY  # after the world's days: no run holds it
    headers = {"Authorization": f"Bearer {_token(ui_world)}"}
    with httpx.Client(base_url=ui_world.base_url, headers=headers, timeout=60) as client:
        response = client.post(
            "/api/v2/dags/ingest_events/dagRuns", json={"logical_date": day.isoformat()}
        )
        assert response.status_code == 200, response.text
        run = response.json()
        try:
            # The scheduled run of that date would cover the same day: when the scheduler gets
            # there, it finds the user's run and moves on to the next date.
            start, end = (
                datetime.fromisoformat(run[f"data_interval_{k}"].replace("Z", "+00:00"))
                for k in ("start", "end")
            )
            assert (start, end) == (day, day + DAY)
        finally:
            # Leave the world as make demo left it (the UI test counts its runs).
            deleted = client.delete(f"/api/v2/dags/ingest_events/dagRuns/{run['dag_run_id']}")
            assert deleted.status_code == 204, deleted.text


def test_the_demo_runs_last_as_long_as_they_ran(ui_world):
    headers = {"Authorization": f"Bearer {_token(ui_world)}"}
    with httpx.Client(base_url=ui_world.base_url, headers=headers, timeout=60) as client:
        response = client.get("/api/v2/dags/~/dagRuns", params={"limit": 100})
    assert response.status_code == 200, response.text
    runs = response.json()["dag_runs"]
    assert runs
    for run in runs:
        # DAG.test() dated a run's start at its logical date: weeks, in the UI.
        assert run["duration"] < 3600, (run["dag_id"], run["start_date"], run["end_date"])
