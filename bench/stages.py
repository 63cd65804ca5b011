"""The benchmark's stages, each in its own process (``bench/child.py``), and the worlds they run
on. Every function returns the stage's result: ``seconds`` (the work itself, timed inside the
child), ``process_seconds`` (the whole child, interpreter and imports included), ``peak_rss_mb``
(the child's largest resident set) and the stage's own figures."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from bench.harness import REPO, run_step

BARE_MARTS_SQL = REPO / "bench" / "bare_marts.sql"
DAGS = REPO / "dags"


def airflow_env(data_dir: Path) -> dict[str, str]:
    """The world's own settings: its data folder, and a fresh Airflow of its own under it
    (never the caller's ``AIRFLOW_HOME``; the task bodies import Airflow too)."""
    return {
        "DATA_DIR": str(data_dir),
        "AIRFLOW_HOME": str(data_dir / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "NO_COLOR": "1",
    }


def generate(world: Path, events_per_day: int, days: int, start: date, seed: int = 42) -> dict:
    shutil.rmtree(world, ignore_errors=True)
    world.mkdir(parents=True)
    return run_step(
        "generate", str(world), str(days), str(events_per_day), start.isoformat(), str(seed)
    )


def twin(world: Path, twin_dir: Path) -> Path:
    """A second data folder with the same inputs: the landing files hard-linked (the platform
    never modifies them), the operational database copied. Nothing ingested, nothing built."""
    shutil.rmtree(twin_dir, ignore_errors=True)
    twin_dir.mkdir(parents=True)
    shutil.copytree(world / "landing", twin_dir / "landing", copy_function=os.link)
    shutil.copytree(world / "source", twin_dir / "source")
    return twin_dir


def task(stage: str, data_dir: Path, day: date, *extra: str) -> dict:
    """One task body of the DAGs (``dataplatform.tasks``) on ``data_dir``."""
    return run_step(stage, day.isoformat(), *extra, env=airflow_env(data_dir))


def bare_ingest(data_dir: Path, day: date, scratch: Path) -> dict:
    scratch.mkdir(parents=True, exist_ok=True)
    folder = data_dir / "landing" / "events" / f"dt={day.isoformat()}"
    target = scratch / f"bare-{day}.parquet"
    try:
        return run_step("bare_ingest", str(folder), str(target))
    finally:
        target.unlink(missing_ok=True)


def bare_transform(data_dir: Path) -> dict:
    from dataplatform.lake import raw_events_glob

    lake = data_dir / "lake"
    return run_step("bare_transform", str(BARE_MARTS_SQL), raw_events_glob(lake), str(lake))


def airflow_run(data_dir: Path, day: date) -> tuple[dict, dict]:
    """Migrate a fresh metadata database (timed apart: a one-time cost), then run the day's
    whole pipeline through Airflow (``make run DATE=day``)."""
    env = airflow_env(data_dir)
    init = run_step("airflow_init", env=env)
    return init, run_step("airflow_run", day.isoformat(), env=env)


def dag_parse(scratch: Path) -> list[dict]:
    """Each DAG file parsed in its own fresh process."""
    env = airflow_env(scratch)
    return [run_step("dag_parse", str(path), env=env) for path in sorted(DAGS.glob("*.py"))]


def days(data_dir: Path, start: date, count: int) -> dict:
    """``count`` days from ``start``, in order, in one process."""
    return run_step("days", start.isoformat(), str(count), env=airflow_env(data_dir))
