"""The gates on small hand-made lakes and warehouses: real DuckDB files, real Great Expectations.

Each test builds exactly the data a rule is about, so a wrong reconciliation, a missed invariant
or an offending value leaking into an alert shows here, not only in the slow pipeline tests.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from dataplatform import lake
from dataplatform.gates.raw import run_raw_gate
from dataplatform.gates.runner import load_suite
from dataplatform.gates.warehouse import run_marts_gate, run_staging_gate

DAY = date(2026, 11, 3)
BEFORE = date(2026, 11, 2)


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _write_batch(folder: Path, rows: list[tuple[int, str, str]]) -> None:
    """Parquet files of one batch, partitioned by event date: rows of (id, type, event date)."""
    with duckdb.connect() as con:
        con.execute(
            "create table e (event_id varchar, event_type varchar, occurred_at timestamp, "
            "user_id varchar, anonymous_id varchar, session_id varchar, platform varchar, "
            "source_file varchar, line_number bigint, event_date date)"
        )
        con.executemany(
            "insert into e values (?, ?, ?::date + interval 10 hour, "
            "case when ? % 3 = 0 then null else 'u1' end, 'a1', 's1', 'web', "
            "'landing/events/part-0.jsonl', ?, ?::date)",
            [(_uuid(n), kind, day, n, line, day) for line, (n, kind, day) in enumerate(rows, 1)],
        )
        for (day,) in con.execute("select distinct event_date from e").fetchall():
            target = folder / f"event_date={day}"
            target.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"copy (select * exclude (event_date) from e where event_date = '{day}') "
                f"to '{target / 'part-0.parquet'}' (format parquet)"
            )


def _manifest(folder: Path, raw: int, quarantined: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / lake.MANIFEST_NAME).write_text(
        json.dumps(
            {
                "records_read": raw + quarantined,
                "raw": raw,
                "quarantined": quarantined,
                "files": [{"file": "landing/x.jsonl", "rejected_whole": False}],
            }
        )
    )


MIX = ["session_started", "listing_viewed", "listing_viewed", "search_performed"]

# Batch BEFORE delivered events 1-3 of BEFORE. Batch DAY delivers 10-13 of DAY (13 twice),
# event 1 again (a late re-delivery) and 4 (a late, new event of BEFORE).
EARLIER_BATCH = [(n, MIX[n % 4], str(BEFORE)) for n in (1, 2, 3)]
NEW_BATCH = [(n, MIX[n % 4], str(DAY)) for n in (10, 11, 12, 13, 13)] + [
    (1, MIX[1], str(BEFORE)),
    (4, MIX[0], str(BEFORE)),
]
# What a correct staging layer holds: every distinct event once, with the batch that first
# brought it.
CORRECT_STAGING = (
    [(1, BEFORE, BEFORE), (2, BEFORE, BEFORE), (3, BEFORE, BEFORE)]
    + [(n, DAY, DAY) for n in (10, 11, 12, 13)]
    + [(4, BEFORE, DAY)]
)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A data dir whose raw zone holds both batches, and a warehouse staged from them."""
    lake_dir = tmp_path / "lake"
    for day, rows in ((BEFORE, EARLIER_BATCH), (DAY, NEW_BATCH)):
        _write_batch(lake.raw_batch_dir(lake_dir, day), rows)
    return tmp_path


def _warehouse(data_dir: Path, staged: list[tuple[int, date, date]], marts_sql: str = "") -> Path:
    path = data_dir / "warehouse.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.stg_lake__events (event_id varchar, event_type varchar, "
            "occurred_at timestamp, event_date date, batch_date date, source_file varchar, "
            "line_number bigint)"
        )
        con.executemany(
            "insert into staging.stg_lake__events values (?, 'listing_viewed', "
            "?::date + interval 1 hour, ?, ?, 'landing/events/part-0.jsonl', ?)",
            [(_uuid(n), event_date, event_date, batch, n) for n, event_date, batch in staged],
        )
        if marts_sql:
            con.execute(marts_sql)
    return path


def test_staging_gate_passes_a_correct_staging_layer(world):
    result = run_staging_gate(world, _warehouse(world, CORRECT_STAGING), DAY)
    assert result.success, [f.describe() for f in result.failures]
    by_date = {row["event_date"]: row for row in result.metrics["dates"]}
    # BEFORE: the batch brought events 1 and 4; 1 was already staged, so one new event.
    assert by_date[str(BEFORE)]["expected_from_batch"] == 1
    assert by_date[str(DAY)]["expected_from_batch"] == 4
    assert result.docs_url and Path(result.docs_url.removeprefix("file://")).exists()


@pytest.mark.parametrize(
    ("staged", "date_", "observed"),
    [
        # the re-delivered event 1 staged a second time: invented
        ([*CORRECT_STAGING, (1, BEFORE, DAY)], str(BEFORE), 1),
        # event 12 lost
        ([row for row in CORRECT_STAGING if row[0] != 12], str(DAY), -1),
    ],
    ids=["redelivery_counted_twice", "event_lost"],
)
def test_staging_gate_catches_a_reconciliation_error(world, staged, date_, observed):
    result = run_staging_gate(world, _warehouse(world, staged), DAY)
    assert not result.success
    (failure,) = [f for f in result.failures if f.column == "staged_minus_expected"]
    assert failure.asset == "reconciliation"
    assert failure.observed == "1 of 2 rows (50 %)"  # one of the two dates the batch touched
    assert failure.sample == [{"row": date_, "staged_minus_expected": observed}]
    assert failure.expected["min_value"] == 0 and failure.expected["max_value"] == 0


def test_staging_gate_fails_a_batch_that_staged_nothing(world):
    """A staging layer that holds only earlier batches: the transform ran on stale input."""
    staged = [(n, event_date, BEFORE) for n, event_date, batch in CORRECT_STAGING if batch != DAY]
    result = run_staging_gate(world, _warehouse(world, staged), DAY)
    failures = {f.expectation: f for f in result.failures if f.asset == "reconciliation"}
    assert failures["expect_column_sum_to_be_between"].column == "staged_from_batch"
    assert failures["expect_column_max_to_be_between"].column == "staged_event_date"


def test_staging_gate_checks_the_batch_rows_in_the_warehouse(world):
    """A staged event of the batch dated far outside the contract's lateness window."""
    staged = [*CORRECT_STAGING, (99, date(2026, 10, 1), DAY)]
    result = run_staging_gate(world, _warehouse(world, staged), DAY)
    failures = {f.column: f for f in result.failures}
    window = failures["event_date"]
    assert window.asset == "batch_events"
    assert window.unexpected_count == 1
    assert window.sample == [{"row": "landing/events/part-0.jsonl:99", "event_date": "2026-10-01"}]
    assert window.observed == "1 of 6 rows (16.7 %)"
    # the dates come from the run, resolved into the expectation as it ran
    assert window.expected["min_value"] == "2026-10-31"


MARTS = """
create schema marts;
create table marts.listing_funnel_daily as select * from (values
    (date '2026-11-02', 10, 8, 0.8), (date '2026-11-03', 5, 9, 1.8))
    t(funnel_date, creations_started, listings_created, completion_rate);
create table marts.listings_daily as select * from (values
    (date '2026-11-02', 1, 8), (date '2026-11-03', 1, 9)) t(created_date, category_id,
    listings_created);
create table marts.active_users_daily as select * from (values
    (date '2026-11-02', 'all', 100, 150, 300), (date '2026-11-03', 'all', 110, 150, 300))
    t(activity_date, platform, dau, wau, mau);
create table marts.category_quality_daily as select date '2026-11-03' as created_date,
    0.1 as wrong_category_rate, 0.5 as acceptance_rate;
create table marts.promotion_revenue_daily as select date '2026-11-03' as purchase_date,
    'bump' as product, 'PLN' as currency, 3 as purchases, 12.5 as revenue;
create table marts.experiment_results as select 'cat_suggest_v2' as experiment_id,
    'treatment' as variant, 'completion_rate' as metric, 0.2 as p_value, 0.4 as srm_p_value;
"""


def test_marts_gate_names_the_broken_business_invariant(world):
    warehouse = _warehouse(world, CORRECT_STAGING, MARTS)
    result = run_marts_gate(world, warehouse, DAY)
    assert not result.success
    failures = {(f.asset, f.expectation): f for f in result.failures}
    funnel = failures[("listing_funnel_daily", "expect_column_pair_values_a_to_be_greater_than_b")]
    assert funnel.unexpected_count == 1
    assert funnel.sample == [{"row": "2026-11-03", "creations_started": 5, "listings_created": 9}]
    rate = failures[("listing_funnel_daily", "expect_column_values_to_be_between")]
    assert rate.sample == [{"row": "2026-11-03", "completion_rate": 1.8}]
    assert set(failures) == {
        ("listing_funnel_daily", "expect_column_pair_values_a_to_be_greater_than_b"),
        ("listing_funnel_daily", "expect_column_values_to_be_between"),
    }
    assert result.metrics["dau_on_run_date"] == 110
    assert result.offending_rows == 2


def _pending(data_dir: Path, rows: list, quarantined: int = 0) -> None:
    folder = lake.pending_batch_dir(data_dir / "lake", DAY)
    _write_batch(folder, rows)
    _manifest(folder, raw=len(rows), quarantined=quarantined)


def test_raw_gate_passes_a_clean_batch(tmp_path):
    _pending(tmp_path, [(n, MIX[n % 4], str(DAY)) for n in range(1, 41)])
    result = run_raw_gate(tmp_path, DAY)
    assert result.success, [f.describe() for f in result.failures]
    assert result.metrics["raw_records"] == 40
    assert result.engine["rows_fetched"] < 50


def test_raw_gate_fails_on_the_quarantine_ratio_and_reports_it(tmp_path, monkeypatch):
    monkeypatch.delenv("RAW_GATE_MAX_QUARANTINE_RATIO", raising=False)
    _pending(tmp_path, [(n, MIX[n % 4], str(DAY)) for n in range(1, 41)], quarantined=10)
    result = run_raw_gate(tmp_path, DAY)
    assert not result.success
    (failure,) = result.failures
    assert (failure.column, failure.observed) == ("quarantine_ratio", 0.2)
    assert failure.expected == {"column": "quarantine_ratio", "min_value": 0, "max_value": 0.01}
    assert failure.unexpected_count is None  # an aggregate: no offending rows to count
    monkeypatch.setenv("RAW_GATE_MAX_QUARANTINE_RATIO", "0.25")
    assert run_raw_gate(tmp_path, DAY).success


def test_raw_gate_samples_offending_values_without_personal_data(tmp_path):
    """An event type nobody knows, spelled as a person's contact details: counted, sampled,
    and scrubbed before it can reach an alert."""
    rows = [(n, MIX[n % 4], str(DAY)) for n in range(1, 41)]
    rows[5] = (6, "call me at +48 512 345 678 or jan.kowalski@example.com", str(DAY))
    _pending(tmp_path, rows)
    result = run_raw_gate(tmp_path, DAY)
    (failure,) = [f for f in result.failures if f.column == "event_type"]
    assert failure.unexpected_count == 1
    (row,) = failure.sample
    assert row["row"] == "landing/events/part-0.jsonl:6"
    value = row["event_type"]
    assert "jan.kowalski" not in value and "512 345" not in value
    assert "[redacted email]" in value and "[redacted phone]" in value
    assert result.sample == [{"asset": "batch_events", **row}]
    stored = Path(result.result_path).read_text()
    assert "jan.kowalski" not in json.dumps(json.loads(stored)["gate"])


def test_every_gate_file_is_a_list_of_validations_with_reasons():
    for name in ("raw_events_batch", "raw_operational", "staging_events", "marts"):
        gate = load_suite(name)
        assert gate["name"] == name
        for validation in gate["validations"]:
            for expectation in validation["expectations"]:
                assert expectation["meta"]["id"] and expectation["meta"]["why"], expectation


def test_staging_gate_reuses_the_raw_gate_count_of_the_same_batch_only(world):
    """The raw gate hashes every event id once; the staging gate takes those per-date counts
    for the batch they were taken of (same manifest), and counts itself otherwise."""
    from dataplatform.gates.raw import manifest_digest

    batch = lake.raw_batch_dir(world / "lake", DAY)
    _manifest(batch, raw=len(NEW_BATCH))
    stored = world / "quality" / "results" / str(DAY) / "raw_events_batch.json"
    stored.parent.mkdir(parents=True)
    # counts that are wrong on purpose: used, they break the reconciliation
    metrics = {
        "manifest_sha256": manifest_digest(batch / lake.MANIFEST_NAME),
        "distinct_events_per_date": {str(BEFORE): 2, str(DAY): 5},
    }
    stored.write_text(json.dumps({"gate": {"metrics": metrics}}))
    warehouse = _warehouse(world, CORRECT_STAGING)
    reused = run_staging_gate(world, warehouse, DAY)
    assert {f.column for f in reused.failures} == {"staged_minus_expected"}
    _manifest(batch, raw=len(NEW_BATCH), quarantined=1)  # another batch of that date
    assert run_staging_gate(world, warehouse, DAY).success


def test_great_expectations_loads_without_the_modules_the_gates_defer(tmp_path: Path) -> None:
    """scipy.stats and altair wait for their first use (half of GX's import time in a task),
    and are whole once used."""
    import os
    import subprocess
    import sys

    script = """
import sys
import dataplatform.gates.runner, great_expectations
from dataplatform.gates import DeferredModule
for name in ("scipy.stats", "altair"):
    module = sys.modules[name]
    assert type(module) is DeferredModule and "__file__" not in vars(module), name
from scipy import stats
assert abs(stats.entropy([0.5, 0.5]) - 0.6931471805599453) < 1e-12
import scipy.stats.distributions
assert type(sys.modules["scipy.stats"]) is not DeferredModule
assert scipy.stats.norm.cdf(0) == 0.5
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("hash_bits", [40, 2])
def test_distinct_events_per_date_are_what_select_distinct_counts(monkeypatch, hash_bits):
    """Re-delivered events, null ids, several dates; with 2 hash bits nearly every key collides
    and the exact pass must tell the events apart."""
    from dataplatform.gates import raw

    monkeypatch.setattr(raw, "_HASH_BITS", hash_bits)
    monkeypatch.setattr(
        raw,
        "_EVENT_KEY",
        f"((event_date - date '1970-01-01')::ubigint << {hash_bits}) "
        f"| (hash(event_date, event_id) & {(1 << hash_bits) - 1}::ubigint)",
    )
    with duckdb.connect() as con:
        con.execute(
            """
            create view batch_events as
            select
                case when i % 97 = 0 then null else 'e' || (i % 500)::varchar end as event_id,
                date '2026-11-01' + (i % 3)::integer as event_date
            from range(2000) as t(i)
            """
        )
        expected = dict(
            con.execute(
                "select event_date, count(*) from "
                "(select distinct event_date, event_id from batch_events) group by all"
            ).fetchall()
        )
        assert raw.distinct_events(con) == expected
        assert sum(expected.values()) < 2000  # the data has duplicates to find
