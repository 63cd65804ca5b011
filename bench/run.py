"""``make bench``: each stage as the pipeline runs it, beside the engine's own limit.

Variables: BENCH_EVENTS (events per day of the scale run, default 1000000), BENCH_HISTORY_DAYS
(days of history for the incremental measurement, default 30) and BENCH_HISTORY_EVENTS (events
per day of that run, default 1000000), BENCH_DIR (scratch space, default /tmp/dataplatform-bench).
Writes bench/results/latest.json and bench/results/latest.md.
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
from bench.bench_generate import bench_generate
from bench.harness import REPO

START = date(2026, 11, 1)
RESULTS = REPO / "bench" / "results"


def _log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


def scale_run(root: Path, events: int) -> dict:
    """One day at ``events`` events: every stage once, and the two references."""
    world = root / f"scale-{events}"
    shutil.rmtree(world, ignore_errors=True)
    _log(f"generate one day of {events:,} events")
    out = {"generate": bench_generate(world, events)}
    _log("bare DuckDB read_json -> Parquet on the same landing files")
    out["bare_ingest"] = stages.bare_ingest(world, START, root / "scratch")
    _log("platform ingest (validation, quarantine, Parquet)")
    out["ingest"] = stages.ingest(world, START)
    _log("raw gate")
    out["raw_gate"] = stages.raw_gate(world, START)
    out["extract"] = stages.extract(world, START)
    _log("dbt build (all layers, with tests)")
    out["dbt_build"] = stages.dbt_build(world, START)
    _log("bare DuckDB script computing the same marts")
    out["bare_transform"] = stages.bare_transform(world)
    _log("publish")
    out["publish"] = stages.publish(world, START)
    shutil.rmtree(world, ignore_errors=True)
    return out


def history_run(root: Path, events: int, days: int) -> dict:
    """Transform and publish cost of day 1 and of day ``days`` with the history before it."""
    world = root / f"history-{events}x{days}"
    shutil.rmtree(world, ignore_errors=True)
    _log(f"generate {days} days of {events:,} events")
    from dataplatform.generator import generate_world

    generate_world(world, days=days, users=1000, seed=7, start_date=START, events_per_day=events)
    per_day = {}
    for offset in range(days):
        day = START + timedelta(days=offset)
        stages.ingest(world, day)
        stages.raw_gate(world, day)
        stages.extract(world, day)
        build = stages.dbt_build(world, day)
        published = stages.publish(world, day)
        per_day[day.isoformat()] = {"dbt_build": build["seconds"], "publish": published["seconds"]}
        _log(
            f"day {offset + 1}/{days}: dbt {build['seconds']:.1f}s, "
            f"publish {published['seconds']:.1f}s"
        )
    shutil.rmtree(world, ignore_errors=True)
    first, last = (
        per_day[START.isoformat()],
        per_day[(START + timedelta(days=days - 1)).isoformat()],
    )
    return {
        "events_per_day": events,
        "days": days,
        "per_day": per_day,
        "day1_seconds": first["dbt_build"] + first["publish"],
        "last_day_seconds": last["dbt_build"] + last["publish"],
        "publish_day1": first["publish"],
        "publish_last_day": last["publish"],
    }


def summarise(scale: dict, history: dict | None, events: int) -> dict:
    ingest, bare = scale["ingest"], scale["bare_ingest"]
    keys = {
        "ingest_vs_limit": round(ingest["events_per_s"] / bare["events_per_s"], 3),
        "transform_vs_limit": round(
            scale["dbt_build"]["seconds"] / scale["bare_transform"]["seconds"], 3
        ),
        "gates_share_of_build": round(
            scale["raw_gate"]["seconds"] / scale["dbt_build"]["seconds"], 3
        ),
        "peak_rss_mb": max(v.get("peak_rss_mb", 0) for v in scale.values()),
        "ingest_peak_rss_mb": ingest["peak_rss_mb"],
    }
    if history:
        keys["incremental_day30_vs_day1"] = round(
            history["last_day_seconds"] / history["day1_seconds"], 3
        )
        keys["publish_day30_vs_day1"] = round(
            history["publish_last_day"] / history["publish_day1"], 3
        )
    return {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "events_per_day": events,
        "keys": keys,
        "stages": scale,
        "history": history,
    }


def markdown(result: dict) -> str:
    lines = [
        f"Measured {result['measured_at']} on {result['machine']['cpus']} cores, "
        f"{result['events_per_day']:,} events/day (`make bench`).",
        "",
        "| stage | seconds | events/s | peak RSS MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, stage in result["stages"].items():
        rate = stage.get("events_per_s")
        lines.append(
            f"| {name} | {stage['seconds']:.2f} | {f'{rate:,}' if rate else ''} | "
            f"{stage.get('peak_rss_mb', '')} |"
        )
    lines += ["", "| key | value |", "| --- | ---: |"]
    lines += [f"| `{k}` | {v} |" for k, v in result["keys"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    events = int(os.environ.get("BENCH_EVENTS", "1000000"))
    history_days = int(os.environ.get("BENCH_HISTORY_DAYS", "30"))
    history_events = int(os.environ.get("BENCH_HISTORY_EVENTS", "1000000"))
    root = Path(os.environ.get("BENCH_DIR", "/tmp/dataplatform-bench"))
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    scale = scale_run(root, events)
    history = history_run(root, history_events, history_days) if history_days > 1 else None
    result = summarise(scale, history, events)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
