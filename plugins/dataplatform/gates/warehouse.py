"""Gates on the candidate warehouse, between dbt layers: staging reconciles with the raw zone,
the marts keep their business invariants.

Great Expectations runs the expectations as SQL in the warehouse itself: row by row on the new
batch's staged events and on the mart tables. What is an aggregate by nature (the
reconciliation counts, a day against the trailing week, whether the batch staged anything and
how new) is computed once by DuckDB into the gate's scratch database, one small table, which GX
validates there: each aggregate GX computes itself is a scan of its own.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from dataplatform import lake
from dataplatform.gates import workspace
from dataplatform.gates.raw import distinct_events_per_date
from dataplatform.gates.runner import Asset, GateResult, load_suite, run_gate
from dataplatform.sql import sql_literal

# The event contract: events land up to 3 days late and up to an hour early.
LATE_DAYS = 3
SCRATCH = "gate_work"

# The batch's distinct events per date: counted by its raw gate when that count is of this very
# batch (the one pass over all its event ids, done once), else here.
BATCH_PER_DATE_SQL = """
    create table {scratch}.batch_per_date as
    select event_date, count(*) as distinct_events
    from (select distinct event_date, event_id from {batch_events})
    group by event_date
"""
BATCH_PER_DATE_FROM_RAW_GATE = """
    create table {scratch}.batch_per_date as
    select unnest($counted_dates)::date as event_date, unnest($counted)::bigint as distinct_events
"""

# Per date the batch touched: what this batch added to staging against what it should have
# added (its distinct valid events that no earlier batch delivered), and the whole date's
# staged events against the rows of every raw batch for it (staging can only be smaller:
# re-deliveries count once). The staging model only appends a batch's events (a re-run first
# deletes that batch's own), so the batch's rows are everything a run changed; the rows of
# earlier batches were reconciled by their own runs. Reconciling whole dates instead would hash
# every event of four to five days on each run.
#
# Separate statements, each into a small table of the scratch database: DuckDB then knows the
# exact size of each side and builds its hash tables on the small one. An event an earlier
# batch delivered is, for the batch's own day, at most the previous batch's clock-skewed hour,
# and for earlier days one of the batch's late events: small either way.
RECONCILIATION_SQL = (
    """
    create table {scratch}.earlier_same_day as
    select event_id, event_date from staging.stg_lake__events
    where batch_date < $batch_date and event_date between $batch_date and $high
    """,
    """
    create table {scratch}.batch_late as
    select distinct event_id, event_date from {batch_events} where event_date < $batch_date
    """,
    """
    create table {scratch}.redelivered as
    select event_date, count(distinct event_id) as redelivered
    from {batch_events} as b
    semi join {scratch}.earlier_same_day as e using (event_id, event_date)
    group by event_date
    union all
    select event_date, count(*) as redelivered
    from staging.stg_lake__events as e
    semi join {scratch}.batch_late as b using (event_id, event_date)
    where e.batch_date < $batch_date and e.event_date between $low and $batch_date - 1
    group by event_date
    """,
    """
    create table {scratch}.staged_per_date as
    select
        event_date,
        count(*) filter (where batch_date = $batch_date) as staged_from_batch,
        count(*) as staged_events
    from staging.stg_lake__events
    where event_date between $low and $high
    group by event_date
    """,
    """
    create table {scratch}.raw_per_date as
    select event_date, count(*) as raw_rows
    from read_parquet({raw_glob}, hive_partitioning = true)
    where event_date between $low and $high
    group by event_date
    """,
    """
    create table {scratch}.reconciliation as
    with touched as (
        select event_date from {scratch}.batch_per_date
        union
        select event_date from {scratch}.staged_per_date where staged_from_batch > 0
    ),
    expected as (
        select
            b.event_date,
            b.distinct_events - coalesce(sum(r.redelivered), 0) as expected_from_batch
        from {scratch}.batch_per_date as b
        left join {scratch}.redelivered as r using (event_date)
        group by b.event_date, b.distinct_events
    )
    select
        t.event_date,
        coalesce(s.staged_from_batch, 0) as staged_from_batch,
        -- the date again where the batch staged events: its maximum is the batch's newest
        case when s.staged_from_batch > 0 then t.event_date end as staged_event_date,
        coalesce(x.expected_from_batch, 0) as expected_from_batch,
        coalesce(s.staged_from_batch, 0) - coalesce(x.expected_from_batch, 0)
            as staged_minus_expected,
        coalesce(s.staged_events, 0) as staged_events,
        coalesce(r.raw_rows, 0) as raw_rows,
        coalesce(s.staged_events, 0) - coalesce(r.raw_rows, 0) as staged_minus_raw_rows
    from touched as t
    left join {scratch}.staged_per_date as s using (event_date)
    left join expected as x using (event_date)
    left join {scratch}.raw_per_date as r using (event_date)
    order by t.event_date
    """,
)

# The run date's headline numbers and the cross-table invariant, one row.
RUN_DATE_SQL = (
    """
create table {scratch}.run_date_metrics as
with funnel as (select * from marts.listing_funnel_daily),
created as (
    select created_date, sum(listings_created) as created
    from marts.listings_daily group by created_date
),
dau as (
    select activity_date, dau from marts.active_users_daily where platform = 'all'
)
select
    $run_date::date as run_date,
    -- a listing comes from a draft started that day or up to two days before
    (select count(*) from created as c where c.created > (
        select coalesce(sum(f.creations_started), 0) from funnel as f
        where f.funnel_date between c.created_date - 2 and c.created_date))
        as listings_without_drafts,
    (select coalesce(max(dau), 0) from dau where activity_date = $run_date::date)
        as dau_on_run_date,
    (select max(dau) from dau where activity_date = $run_date::date)
    / nullif((select avg(dau) from dau where activity_date between $run_date::date - 7
        and $run_date::date - 1), 0) as dau_vs_trailing_week
""",
)


# The mart tables the marts gate validates row by row, and how a person names one of their rows.
MART_ROWS = {
    "listing_funnel_daily": "funnel_date",
    "active_users_daily": "activity_date || ' ' || platform",
    "category_quality_daily": "created_date",
    "promotion_revenue_daily": "purchase_date || ' ' || product || ' ' || currency",
    "experiment_results": "experiment_id || ' ' || variant || ' ' || metric",
}


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    # Same configuration as dbt's connection, so that in one process DuckDB shares the instance.
    return workspace.connect(warehouse)


def _with_date_literals(sql: str, parameters: dict) -> str:
    """The date parameters written into ``sql`` as constants. DuckDB skips the lake's files of
    other dates when it plans a query only for constants: with a prepared parameter, the first
    query on the staging view read the footer of every file of the lake, a cost that grew with
    every day of history."""
    for name in sorted(parameters, key=len, reverse=True):  # $high before a $h
        value = parameters[name]
        if isinstance(value, date):
            sql = sql.replace(f"${name}", f"date '{value.isoformat()}'")
    return sql


def _into_scratch(
    warehouse: Path, work: Path, statements: tuple[str, ...], parameters: dict
) -> list[dict]:
    """Run ``statements`` (each ``create table {scratch}.<name> as ...``) in the warehouse with
    the gate's scratch database attached; return the rows of the last table (a handful)."""
    table = statements[-1].split("{scratch}.", 1)[1].split()[0]
    with _connect(warehouse) as con:
        con.execute(f"attach {sql_literal(str(work))} as {SCRATCH}")
        try:
            for statement in statements:
                sql = _with_date_literals(statement.replace("{scratch}", SCRATCH), parameters)
                con.execute(sql, {k: v for k, v in parameters.items() if f"${k}" in sql})
            cursor = con.execute(f"select * from {SCRATCH}.{table}")
            names = [column[0] for column in cursor.description]
            rows = [
                {name: workspace.plain(value) for name, value in zip(names, row, strict=True)}
                for row in cursor.fetchall()
            ]
        finally:
            con.execute(f"detach {SCRATCH}")
    return rows


def staging_reconciliation(data_dir: Path, warehouse: Path, work: Path, day: date) -> list[dict]:
    """One row per date the batch touched (a handful): see RECONCILIATION_SQL."""
    lake_dir = data_dir / "lake"
    files = list(lake.raw_batch_dir(lake_dir, day).glob("event_date=*/*.parquet"))
    batch_events = (
        f"read_parquet({workspace.parquet_list(files)}, hive_partitioning = true)"
        if files
        else "(select null::varchar as event_id, null::date as event_date where false)"
    )
    counted = distinct_events_per_date(data_dir, day) or None
    first = BATCH_PER_DATE_SQL if counted is None else BATCH_PER_DATE_FROM_RAW_GATE
    statements = tuple(
        sql.replace("{batch_events}", batch_events).replace(
            "{raw_glob}", sql_literal(lake.raw_events_glob(lake_dir))
        )
        for sql in (first, *RECONCILIATION_SQL)
    )
    return _into_scratch(
        warehouse,
        work,
        statements,
        {
            "batch_date": day,
            "low": day - timedelta(days=LATE_DAYS),
            "high": day + timedelta(days=1),
            "counted_dates": list((counted or {}).keys()),
            "counted": list((counted or {}).values()),
        },
    )


def run_staging_gate(data_dir: Path, warehouse: Path, day: date) -> GateResult:
    with workspace.scratch_database("staging") as work:
        rows = staging_reconciliation(data_dir, warehouse, work, day)
        return run_gate(
            load_suite("staging_events"),
            {
                "batch_events": Asset(
                    warehouse,
                    query="select event_id, occurred_at, event_date, source_file, line_number "
                    f"from staging.stg_lake__events where batch_date = date '{day.isoformat()}'",
                    row_ref="source_file || ':' || line_number",
                ),
                "reconciliation": Asset(
                    work, "reconciliation", source="gate_work", row_ref="event_date"
                ),
            },
            data_dir / "quality",
            label=day.isoformat(),
            parameters={
                "earliest_event_date": (day - timedelta(days=LATE_DAYS)).isoformat(),
                "freshest_event_date": (day - timedelta(days=1)).isoformat(),
                "latest_event_date": (day + timedelta(days=1)).isoformat(),
            },
            metrics={"batch_date": day.isoformat(), "dates": rows},
        )


def run_marts_gate(data_dir: Path, warehouse: Path, day: date) -> GateResult:
    with workspace.scratch_database("marts") as work:
        (metrics,) = _into_scratch(warehouse, work, RUN_DATE_SQL, {"run_date": day})
        marts = {
            name: Asset(warehouse, name, schema="marts", row_ref=row_ref)
            for name, row_ref in MART_ROWS.items()
        }
        run_date = Asset(work, "run_date_metrics", source="gate_work", row_ref="run_date")
        return run_gate(
            load_suite("marts"),
            {**marts, "run_date_metrics": run_date},
            data_dir / "quality",
            label=day.isoformat(),
            metrics=metrics,
        )
