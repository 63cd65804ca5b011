"""From the stages' measurements to the issue's keys, their targets, and the markdown table."""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from typing import Any

from bench.child import DAY_STAGES, DBT_TASKS, GATES

TARGET_EVENTS = 10_000_000  # the targets hold at this many events a day

# key: (comparison, threshold, what it is)
TARGETS: dict[str, tuple[str, float, str]] = {
    "ingest_vs_limit": (
        ">=",
        0.5,
        "platform ingest events/s ÷ bare DuckDB read_json → Parquet events/s",
    ),
    "transform_vs_limit": ("<=", 2, "dbt build seconds (both dbt tasks) ÷ bare marts script"),
    "incremental_day30_vs_day1": (
        "<=",
        1.5,
        "transform + gates + publish seconds, last history day ÷ day 1",
    ),
    "publish_day30_vs_day1": (
        "<=",
        1.5,
        "publish seconds, last history day ÷ day 1",
    ),
    "gates_share_of_build": ("<=", 0.25, "all 4 gates' seconds ÷ dbt build seconds"),
    "e2e_vs_limit": (
        "<=",
        3,
        "whole Airflow run of one day ÷ (bare ingest + bare transform)",
    ),
    "peak_rss_mb": ("<=", 4096, "largest platform process during the day"),
    "dag_parse_s_max": ("<=", 0.5, "slowest DAG file parse (DagBag, fresh process)"),
}
_COMPARE = {">=": operator.ge, "<=": operator.le}

# Row order of the stage table; references are DuckDB on its own, not the platform.
STAGE_ORDER = (
    "generate",
    "bare_ingest",
    *DAY_STAGES,
    "docs",
    "bare_transform",
    "airflow_run",
    "dbt_build",
    "gates",
)
REFERENCES = ("bare_ingest", "bare_transform")
LABELS = {
    "bare_ingest": "bare DuckDB read_json → Parquet (ingest limit)",
    "bare_transform": "bare DuckDB marts script (transform limit)",
    "airflow_run": "whole day through Airflow (3 DAGs)",
    "dbt_build": "**dbt build** (staging + marts + access)",
    "gates": "**gates** (raw + operational + staging + marts)",
    "docs": "docs (dbt docs of the published version)",
}
# Stages of the pipeline itself (not the generator, not the references, not the sums).
PLATFORM = (
    "ingest",
    *GATES,
    "extract",
    *DBT_TASKS,
    "publish",
    "docs",
    "airflow_run",
)
NO_THROUGHPUT = ("extract", "operational_gate")  # they read the operational DB, not events


def combine(stages: Mapping[str, dict], names: tuple[str, ...]) -> dict:
    """Several stages as one: seconds add up, peak RSS is the largest."""
    parts = [stages[n] for n in names if n in stages]
    return {
        "seconds": round(sum(p["seconds"] for p in parts), 3),
        "process_seconds": round(sum(p.get("process_seconds", 0) for p in parts), 3),
        "peak_rss_mb": max((p.get("peak_rss_mb", 0) for p in parts), default=0),
        "parts": [n for n in names if n in stages],
    }


def with_totals(stages: Mapping[str, dict], events: int | None) -> dict[str, dict]:
    """The stages plus ``dbt_build`` and ``gates``, each with ``events_per_s`` where it means
    something (the day's landing events over the stage's seconds)."""
    out = {name: dict(values) for name, values in stages.items()}
    if any(n in out for n in DBT_TASKS):
        out["dbt_build"] = combine(out, tuple(DBT_TASKS))
    if any(n in out for n in GATES):
        out["gates"] = combine(out, GATES)
    for name, values in out.items():
        count = values.get("events") if name in ("generate", "bare_ingest") else events
        if count and values.get("seconds") and name not in NO_THROUGHPUT:
            values["events_per_s"] = round(count / values["seconds"])
    return out


def incremental_seconds(times: Mapping[str, float]) -> float:
    """Transform + gates + publish of one day (its ingest and extraction left out)."""
    return sum(times.get(n, 0.0) for n in (*DBT_TASKS, *GATES, "publish"))


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def _seconds(stages: Mapping[str, dict], name: str) -> float | None:
    return stages[name]["seconds"] if name in stages else None


def compute_keys(
    stages: Mapping[str, dict], history: Mapping[str, Any] | None, dag_parse: list[dict]
) -> dict[str, Any]:
    """The issue's keys; a key whose inputs were not measured is None."""
    keys: dict[str, Any] = {}
    ingest, bare = stages.get("ingest", {}), stages.get("bare_ingest", {})
    keys["ingest_vs_limit"] = _ratio(ingest.get("events_per_s"), bare.get("events_per_s"))
    keys["transform_vs_limit"] = _ratio(
        _seconds(stages, "dbt_build"), _seconds(stages, "bare_transform")
    )
    keys["incremental_day30_vs_day1"] = (
        _ratio(history["last_day_seconds"], history["day1_seconds"]) if history else None
    )
    keys["publish_day30_vs_day1"] = (
        _ratio(history.get("last_day_publish_seconds"), history.get("day1_publish_seconds"))
        if history
        else None
    )
    keys["gates_share_of_build"] = _ratio(_seconds(stages, "gates"), _seconds(stages, "dbt_build"))
    limits = [_seconds(stages, "bare_ingest"), _seconds(stages, "bare_transform")]
    keys["e2e_vs_limit"] = _ratio(
        _seconds(stages, "airflow_run"), None if None in limits else sum(limits)
    )
    measured = [n for n in PLATFORM if n in stages]
    peak = max(measured, key=lambda n: stages[n].get("peak_rss_mb", 0), default=None)
    keys["peak_rss_mb"] = stages[peak]["peak_rss_mb"] if peak else None
    keys["peak_rss_stage"] = peak
    slowest = max(dag_parse, key=lambda p: p["seconds"], default=None)
    keys["dag_parse_s_max"] = slowest["seconds"] if slowest else None
    keys["dag_parse_slowest_file"] = slowest["file"] if slowest else None
    return keys


def verdicts(keys: Mapping[str, Any]) -> dict[str, dict]:
    """Per target key: its target as text and whether it is met (None: not measured)."""
    out = {}
    for key, (comparison, threshold, _) in TARGETS.items():
        value = keys.get(key)
        met = None if value is None else bool(_COMPARE[comparison](value, threshold))
        out[key] = {"target": f"{comparison} {threshold:g}", "met": met}
    return out


def summarise_history(result: Mapping[str, Any], events_per_day: int, days: int) -> dict:
    per_day = result["per_day"]
    dates = sorted(per_day)
    first, last = per_day[dates[0]], per_day[dates[-1]]
    return {
        "events_per_day": events_per_day,
        "days": days,
        "day1": dates[0],
        "last_day": dates[-1],
        "day1_seconds": round(incremental_seconds(first), 3),
        "last_day_seconds": round(incremental_seconds(last), 3),
        "day1_publish_seconds": first.get("publish"),
        "last_day_publish_seconds": last.get("publish"),
        "per_day": per_day,
        "events": result.get("events", {}),
        "process_seconds": result.get("process_seconds"),
        "peak_rss_mb": result.get("peak_rss_mb"),
    }


def _number(value: Any, digits: int = 2) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def markdown(result: Mapping[str, Any]) -> str:
    events = result["events_per_day"]
    lines = [
        f"Measured {result['measured_at']} on {result['machine']['cpus']} cores: "
        f"{events:,} events/day (`BENCH_EVENTS={events}`); `make bench` took "
        f"{result.get('bench_seconds', 0) / 60:.1f} min.",
        "",
        "| stage | seconds | events/s | peak RSS MB |",
        "| --- | ---: | ---: | ---: |",
    ]
    stages = result["stages"]
    for name in [*STAGE_ORDER, *(n for n in stages if n not in STAGE_ORDER)]:
        if name not in stages:
            continue
        stage = stages[name]
        lines.append(
            f"| {LABELS.get(name, name)} | {_number(stage['seconds'])} | "
            f"{_number(stage.get('events_per_s'))} | {_number(stage.get('peak_rss_mb'))} |"
        )
    for parse in result.get("dag_parse", []):
        lines.append(
            f"| parse `dags/{parse['file']}` | {_number(parse['seconds'], 3)} |  | "
            f"{_number(parse.get('peak_rss_mb'))} |"
        )
    rounds = [stages[n].get("rounds_seconds") for n in ("bare_ingest", "ingest") if n in stages]
    if all(rounds) and len(rounds) == 2 and len(rounds[0]) > 1:
        lines += [
            "",
            f"The ingest and its limit ran {len(rounds[1])} times, one after the other; the "
            "table has the runs of median time. Bare: "
            + ", ".join(f"{s:.1f}" for s in rounds[0])
            + " s; ingest: "
            + ", ".join(f"{s:.1f}" for s in rounds[1])
            + " s.",
        ]
    history = result.get("history")
    if history:
        lines += [
            "",
            f"Incremental: {history['days']} days of {history['events_per_day']:,} events "
            f"(`BENCH_DAYS={history['days']}`, `BENCH_HISTORY_EVENTS="
            f"{history['events_per_day']}`), transform + gates + publish per day: "
            f"day 1 {history['day1_seconds']:.1f} s, day {history['days']} "
            f"{history['last_day_seconds']:.1f} s.",
        ]
    lines += ["", "| key | value | target | met | what |", "| --- | ---: | ---: | :---: | --- |"]
    keys, checks = result["keys"], result["targets"]
    for key, (_, _, what) in TARGETS.items():
        value, check = keys.get(key), checks[key]
        met = {True: "yes", False: "**no**", None: "not measured"}[check["met"]]
        shown = _number(value, 3) if not isinstance(value, int) else _number(value)
        if key == "peak_rss_mb" and keys.get("peak_rss_stage"):
            what += f" (`{keys['peak_rss_stage']}`)"
        if key == "dag_parse_s_max" and keys.get("dag_parse_slowest_file"):
            what += f" (`{keys['dag_parse_slowest_file']}`)"
        if key.endswith("_day30_vs_day1") and history and history["days"] != 30:
            what += f" (here day {history['days']})"
        lines.append(f"| `{key}` | {shown} | {check['target']} | {met} | {what} |")
    if events != TARGET_EVENTS:
        lines += ["", f"The targets are for {TARGET_EVENTS:,} events/day; this run had {events:,}."]
    return "\n".join(lines) + "\n"


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def replace_block(text: str, block: str) -> str:
    """``text`` with everything between the bench markers replaced by ``block``."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {BEGIN} … {END} block")
    return pattern.sub(lambda _: f"{BEGIN}\n{block.rstrip()}\n{END}", text, count=1)
