"""The benchmark's summary: the issue's keys from the stages' measurements, and target/met."""

from __future__ import annotations

import pytest

from bench.summary import (
    TARGETS,
    compute_keys,
    markdown,
    replace_block,
    summarise_history,
    verdicts,
    with_totals,
)

EVENTS = 1_000_000


def _stage(seconds: float, rss: int = 100, **extra) -> dict:
    return {"seconds": seconds, "process_seconds": seconds + 5, "peak_rss_mb": rss, **extra}


def _stages() -> dict:
    return {
        "generate": _stage(2.0, 3000, events=EVENTS),
        "bare_ingest": _stage(4.0, 1400, events=EVENTS),
        "ingest": _stage(10.0, 500),
        "raw_gate": _stage(1.0),
        "extract": _stage(2.0),
        "operational_gate": _stage(1.0),
        "dbt_staging": _stage(6.0, 900),
        "staging_gate": _stage(2.0),
        "dbt_marts": _stage(14.0, 1200),
        "marts_gate": _stage(1.0),
        "publish": _stage(3.0),
        "docs": _stage(20.0),
        "bare_transform": _stage(8.0, 700),
        "airflow_run": _stage(60.0, 2100),
    }


def _history(day1: float, last: float, publish: tuple[float, float] = (1.0, 1.0)) -> dict:
    def day(dbt: float, published: float) -> dict:
        return {
            "ingest": 50.0,  # not part of the incremental cost
            "raw_gate": 1.0,
            "extract": 9.0,  # nor this
            "operational_gate": 1.0,
            "dbt_staging": dbt + 1.0 - published,
            "staging_gate": 1.0,
            "dbt_marts": 0.0,
            "marts_gate": 1.0,
            "publish": published,
        }

    per_day = {
        "2026-11-01": day(day1 - 5, publish[0]),
        "2026-11-02": day(3, 1.0),
        "2026-11-03": day(last - 5, publish[1]),
    }
    return summarise_history({"per_day": per_day}, EVENTS, 3)


def test_totals_add_the_dbt_layers_and_all_four_gates():
    stages = with_totals(_stages(), EVENTS)
    assert stages["dbt_build"]["seconds"] == 20.0
    assert stages["dbt_build"]["peak_rss_mb"] == 1200
    assert stages["gates"]["seconds"] == 5.0
    assert stages["gates"]["parts"] == [
        "raw_gate",
        "operational_gate",
        "staging_gate",
        "marts_gate",
    ]
    assert stages["ingest"]["events_per_s"] == 100_000
    assert stages["bare_ingest"]["events_per_s"] == 250_000
    assert "events_per_s" not in stages["extract"]


def test_keys_from_the_stages():
    stages = with_totals(_stages(), EVENTS)
    keys = compute_keys(
        stages,
        _history(12.0, 15.0, publish=(0.8, 1.4)),
        [
            {"file": "a.py", "seconds": 0.2},
            {"file": "transform.py", "seconds": 0.7},
        ],
    )
    assert keys["ingest_vs_limit"] == 0.4
    assert keys["transform_vs_limit"] == 2.5  # 20 s of dbt against 8 s
    assert keys["gates_share_of_build"] == 0.25  # 5 s of gates against 20 s of dbt
    assert keys["e2e_vs_limit"] == 5.0  # 60 s against 4 + 8
    assert keys["incremental_day30_vs_day1"] == 1.25
    assert keys["publish_day30_vs_day1"] == 1.75  # 1.4 s of publish on the last day, 0.8 s
    # the generator (3000 MB) is not the platform; the Airflow run is its largest process
    assert (keys["peak_rss_mb"], keys["peak_rss_stage"]) == (2100, "airflow_run")
    assert (keys["dag_parse_s_max"], keys["dag_parse_slowest_file"]) == (0.7, "transform.py")


def test_history_counts_transform_gates_and_publish_not_ingest():
    history = _history(12.0, 15.0, publish=(0.5, 0.6))
    assert history["day1_seconds"] == 12.0
    assert history["last_day_seconds"] == 15.0
    assert (history["day1_publish_seconds"], history["last_day_publish_seconds"]) == (0.5, 0.6)
    assert (history["day1"], history["last_day"]) == ("2026-11-01", "2026-11-03")


def test_verdicts_compare_each_key_with_its_target():
    checks = verdicts(
        {
            "ingest_vs_limit": 0.5,  # ≥ 0.5: met at the boundary
            "transform_vs_limit": 2.01,
            "incremental_day30_vs_day1": None,
            "publish_day30_vs_day1": 1.5,  # ≤ 1.5: met at the boundary
            "gates_share_of_build": 0.1,
            "e2e_vs_limit": 3.5,
            "peak_rss_mb": 4096,
            "dag_parse_s_max": 0.51,
        }
    )
    assert set(checks) == set(TARGETS)
    assert {k: v["met"] for k, v in checks.items()} == {
        "ingest_vs_limit": True,
        "transform_vs_limit": False,
        "incremental_day30_vs_day1": None,
        "publish_day30_vs_day1": True,
        "gates_share_of_build": True,
        "e2e_vs_limit": False,
        "peak_rss_mb": True,
        "dag_parse_s_max": False,
    }
    assert checks["ingest_vs_limit"]["target"] == ">= 0.5"


def test_unmeasured_inputs_give_no_key_rather_than_a_wrong_one():
    keys = compute_keys({"ingest": _stage(1.0)}, None, [])
    assert keys["transform_vs_limit"] is None
    assert keys["e2e_vs_limit"] is None
    assert keys["incremental_day30_vs_day1"] is None
    assert keys["publish_day30_vs_day1"] is None
    assert verdicts(keys)["e2e_vs_limit"]["met"] is None


def _result(stages: dict, history: dict | None = None, parses: list | None = None, **extra) -> dict:
    """What bench.run writes to latest.json, from these stages and history."""
    keys = compute_keys(stages, history, parses or [])
    return {
        "measured_at": "2026-11-30T00:00:00+00:00",
        "machine": {"cpus": 2},
        "events_per_day": EVENTS,
        "keys": keys,
        "targets": verdicts(keys),
        "stages": stages,
        "history": history,
        **extra,
    }


def test_markdown_has_target_and_met_columns_and_the_readme_block_is_replaced():
    result = _result(
        with_totals(_stages(), EVENTS),
        parses=[{"file": "transform.py", "seconds": 0.3}],
        bench_seconds=600,
        dag_parse=[{"file": "transform.py", "seconds": 0.3, "peak_rss_mb": 200}],
    )
    table = markdown(result)
    assert "| key | value | target | met | what |" in table
    assert "| `transform_vs_limit` | 2.500 | <= 2 | **no** |" in table
    assert "| `gates_share_of_build` | 0.250 | <= 0.25 | yes |" in table
    assert "| `incremental_day30_vs_day1` |  | <= 1.5 | not measured |" in table
    assert "| `publish_day30_vs_day1` |  | <= 1.5 | not measured |" in table
    assert "targets are for 10,000,000 events/day" in table
    readme = "# T\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\nafter\n"
    replaced = replace_block(readme, table)
    assert "old" not in replaced
    assert replaced.endswith("<!-- bench:end -->\n\nafter\n")
    assert table.strip() in replaced
    with pytest.raises(ValueError):
        replace_block("no markers", table)


def test_the_publish_key_comes_from_the_history_runs_publish_seconds():
    history = _history(12.0, 15.0, publish=(0.8, 1.4))
    table = markdown(_result(with_totals(_stages(), EVENTS), history))
    assert (
        "| `publish_day30_vs_day1` | 1.750 | <= 1.5 | **no** | publish seconds, last history "
        "day ÷ day 1 (here day 3) |"
    ) in table


def test_the_ingest_rounds_of_median_time_count_and_the_table_says_so():
    from bench.run import _median

    bare = _median(
        [
            {"seconds": 30.0, "peak_rss_mb": 900, "events": 9},
            {"seconds": 24.0, "peak_rss_mb": 1500},
            {"seconds": 26.0, "peak_rss_mb": 1400},
        ]
    )
    assert bare == {"seconds": 26.0, "peak_rss_mb": 1500, "rounds_seconds": [30.0, 24.0, 26.0]}
    two = [{"seconds": 4.0, "peak_rss_mb": 1}, {"seconds": 1.0, "peak_rss_mb": 2}]
    assert _median(two)["seconds"] == 1.0  # the lower one
    stages = _stages()
    stages["bare_ingest"] |= bare
    stages["ingest"] |= {"rounds_seconds": [61.9, 55.3, 57.5]}
    result = _result(with_totals(stages, EVENTS))
    assert (
        "ran 3 times, one after the other; the table has the runs of median time. "
        "Bare: 30.0, 24.0, 26.0 s; ingest: 61.9, 55.3, 57.5 s."
    ) in markdown(result)
