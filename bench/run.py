"""``make bench``: each stage as the pipeline runs it, beside the engine's own limits.

Variables (environment):

* ``BENCH_EVENTS``: events per day of the scale run (default 1000000; the targets are for
  10000000).
* ``BENCH_DAYS``: days of the history run that measures the incremental cost, day N against
  day 1 (default 30; 0 or 1 skips it). ``BENCH_HISTORY_DAYS`` is an older name for it.
* ``BENCH_HISTORY_EVENTS``: events per day of the history run (default 1000000).
* ``BENCH_INGEST_ROUNDS``: how many times the ingest and its limit run, one after the other
  (default 3): the runs of median time count.
* ``BENCH_DIR``: scratch space for the worlds (default /tmp/dataplatform-bench; emptied after).
* ``BENCH_RESULTS``: where latest.json and latest.md go (default bench/results). Only a run
  into the default folder rewrites the README's benchmark block.

The scale run generates one day, then runs every task of the three DAGs on it in order, each in
a fresh process (its own peak RSS), with the two references beside them: DuckDB's bare
``read_json → Parquet`` on the same landing files and ``bench/bare_marts.sql`` on the same raw
files. Then the whole day again, through Airflow, on a twin of the same inputs, and each DAG
file parsed on its own. The history run generates ``BENCH_DAYS`` days and runs each in order;
day 1 and the last day each in a fresh process, so that both pay the same first-call costs.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench import stages
from bench.child import DAY_STAGES
from bench.harness import REPO
from bench.summary import (
    NO_THROUGHPUT,
    compute_keys,
    markdown,
    replace_block,
    summarise_history,
    verdicts,
    with_totals,
)

START = date(2026, 11, 1)
RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"
_STARTED = time.perf_counter()


def log(message: str) -> None:
    elapsed = time.perf_counter() - _STARTED
    print(f"[bench {elapsed / 60:5.1f} min] {message}", flush=True)


def _line(name: str, result: dict, events: int | None = None) -> None:
    events = None if name in NO_THROUGHPUT else events
    rate = f", {events / result['seconds']:,.0f} events/s" if events and result["seconds"] else ""
    log(
        f"  {name}: {result['seconds']:.2f} s{rate}, peak RSS {result['peak_rss_mb']:,} MB "
        f"(process {result['process_seconds']:.1f} s)"
    )


def _median(runs: list[dict]) -> dict:
    """The run of median time (the lower one of an even count), with every run's seconds and
    the largest resident set of any of them (a peak is a peak, whichever round had it)."""
    chosen = dict(sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2])
    chosen["rounds_seconds"] = [run["seconds"] for run in runs]
    chosen["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return chosen


def ingest_rounds(world: Path, scratch: Path, rounds: int) -> tuple[dict, dict]:
    """The ingest and its limit, DuckDB's bare read_json → Parquet on the same landing files,
    one after the other ``rounds`` times: the runs of median time count. A single pair swung
    from 0.40 to 0.52 of the limit within minutes here. Each ingest round starts from a lake
    without the batch (a re-run would pay for deleting the last round's files); the last one's
    batch is the one the pipeline goes on with."""
    from dataplatform import lake

    bare_runs, ingest_runs = [], []
    for number in range(1, rounds + 1):
        log(f"ingest round {number} of {rounds}: bare DuckDB read_json -> Parquet, then ingest")
        bare_runs.append(stages.bare_ingest(world, START, scratch))
        for batch in (
            lake.pending_batch_dir(world / "lake", START),
            lake.quarantine_batch_dir(world / "lake", START),
        ):
            shutil.rmtree(batch, ignore_errors=True)
        ingest_runs.append(stages.task("ingest", world, START))
        ratio = bare_runs[-1]["seconds"] / ingest_runs[-1]["seconds"]
        log(
            f"  bare {bare_runs[-1]['seconds']:.1f} s, ingest {ingest_runs[-1]['seconds']:.1f} s "
            f"({ratio:.3f} of the limit)"
        )
    return _median(bare_runs), _median(ingest_runs)


def scale_run(root: Path, events_per_day: int, rounds: int = 3) -> tuple[dict, list[dict], dict]:
    """One day of ``events_per_day`` events: every task, the references, the Airflow run."""
    world = root / f"scale-{events_per_day}"
    twin = root / f"scale-{events_per_day}-airflow"
    scratch = root / "scratch"
    out: dict[str, dict] = {}
    try:
        log(f"generate one day of {events_per_day:,} events")
        out["generate"] = stages.generate(world, events_per_day, 1, START)
        _line("generate", out["generate"], out["generate"]["events"])
        stages.twin(world, twin)

        out["bare_ingest"], out["ingest"] = ingest_rounds(world, scratch, rounds)
        events = out["ingest"]["result"]["records_read"]
        _line("bare_ingest", out["bare_ingest"], out["bare_ingest"]["events"])
        _line("ingest", out["ingest"], events)

        log("the DAGs' other tasks, each in its own process")
        version_id = None
        for name in DAY_STAGES[1:]:
            out[name] = stages.task(name, world, START)
            if name == "publish":
                version_id = out[name]["result"]["version_id"]
            _line(name, out[name], events)
        out["docs"] = stages.task("docs", world, START, version_id)
        _line("docs", out["docs"], events)

        log("reference: bare DuckDB script computing the same marts from the same raw files")
        out["bare_transform"] = stages.bare_transform(world)
        _line("bare_transform", out["bare_transform"], events)
        shutil.rmtree(world, ignore_errors=True)

        log("the whole day through Airflow (ingest_events, extract_operational, transform)")
        init, out["airflow_run"] = stages.airflow_run(twin, START)
        _line("airflow metadata database (one-time, not in the run)", init)
        _line("airflow_run", out["airflow_run"], events)

        log("DAG file parse times")
        parses = stages.dag_parse(scratch)
        for parse in parses:
            _line(f"parse {parse['file']}", parse)
    except BaseException:
        log(f"failed: {world} and {twin} are kept for a look (logs/, dbt/logs/, alerts/)")
        raise
    for folder in (world, twin, scratch):
        shutil.rmtree(folder, ignore_errors=True)
    out["airflow_run"]["airflow_init"] = init
    return with_totals(out, events), parses, {"events": events}


def history_run(root: Path, events_per_day: int, days: int) -> dict:
    """``days`` days of ``events_per_day`` events, each day's pipeline in order. Day 1 and the
    last day each run in a fresh process, as every day of a deployed Airflow does (a task is a
    new process); the days between only build the history, in one process, as ``make demo``."""
    world = root / f"history-{events_per_day}x{days}"
    last = START + timedelta(days=days - 1)
    try:
        log(f"history: generate {days} days of {events_per_day:,} events")
        generated = stages.generate(world, events_per_day, days, START, seed=7)
        _line("generate", generated, generated["events"])
        log(f"history: day 1 ({START}), in a fresh process")
        runs = [stages.days(world, START, 1)]
        if days > 2:
            log(f"history: days 2 to {days - 1}, in one process")
            runs.append(stages.days(world, START + timedelta(days=1), days - 2))
        log(f"history: day {days} ({last}), in a fresh process")
        runs.append(stages.days(world, last, 1))
    except BaseException:
        log(f"failed: {world} is kept for a look (logs/, dbt/logs/, alerts/)")
        raise
    shutil.rmtree(world, ignore_errors=True)
    result = {
        "per_day": {day: t for run in runs for day, t in run["per_day"].items()},
        "events": {day: n for run in runs for day, n in run["events"].items()},
        "peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "process_seconds": round(sum(run["process_seconds"] for run in runs), 3),
    }
    summary = summarise_history(result, events_per_day, days)
    summary["generate"] = generated
    log(
        f"  transform + gates + publish: day 1 {summary['day1_seconds']:.1f} s, "
        f"day {days} {summary['last_day_seconds']:.1f} s"
    )
    return summary


def _int_env(*names: str, default: int) -> int:
    for name in names:
        if os.environ.get(name):
            return int(os.environ[name])
    return default


def main() -> None:
    events = _int_env("BENCH_EVENTS", default=1_000_000)
    days = _int_env("BENCH_DAYS", "BENCH_HISTORY_DAYS", default=30)
    history_events = _int_env("BENCH_HISTORY_EVENTS", default=1_000_000)
    rounds = max(1, _int_env("BENCH_INGEST_ROUNDS", default=3))
    root = Path(os.environ.get("BENCH_DIR") or "/tmp/dataplatform-bench")
    results = Path(os.environ.get("BENCH_RESULTS") or RESULTS)
    root.mkdir(parents=True, exist_ok=True)
    log(
        f"BENCH_EVENTS={events} BENCH_DAYS={days} BENCH_HISTORY_EVENTS={history_events} "
        f"BENCH_INGEST_ROUNDS={rounds} BENCH_DIR={root}"
    )
    scale, parses, _ = scale_run(root, events, rounds)
    history = history_run(root, history_events, days) if days > 1 else None
    keys = compute_keys(scale, history, parses)
    result = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        },
        "events_per_day": events,
        "bench_seconds": round(time.perf_counter() - _STARTED, 1),
        "keys": keys,
        "targets": verdicts(keys),
        "stages": scale,
        "dag_parse": parses,
        "history": history,
    }
    results.mkdir(parents=True, exist_ok=True)
    table = markdown(result)
    (results / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    (results / "latest.md").write_text(table)
    if results.resolve() == RESULTS.resolve():
        README.write_text(replace_block(README.read_text(), table))
    log(f"wrote {results / 'latest.json'} and latest.md")
    print(table)


if __name__ == "__main__":
    main()
