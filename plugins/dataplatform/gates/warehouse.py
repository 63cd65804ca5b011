"""Gates on the candidate warehouse, between dbt layers: staging reconciles with the raw zone,
the marts keep their business invariants. Metrics are aggregated by DuckDB; Great Expectations
validates them against the committed suites."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dataplatform import lake
from dataplatform.gates.runner import GateResult, load_suite, validate_frame
from dataplatform.privacy import prepare_session


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    # Same configuration as dbt's connection, so that in one process DuckDB shares the instance.
    con = duckdb.connect(str(warehouse))
    prepare_session(con)
    return con


def staging_metrics(data_dir: Path, warehouse: Path, day: date):
    """Reconciliation of the staged events with the raw zone over the dates the batch touched."""
    glob = lake.raw_events_glob(data_dir / "lake")
    with _connect(warehouse) as con:
        low, high, staged_from_batch, null_keys = con.execute(
            """
            select min(event_date), max(event_date), count(*),
                count(*) filter (where event_id is null or event_type is null
                    or occurred_at is null or event_date is null)
            from staging.stg_lake__events where batch_date = ?
            """,
            [day],
        ).fetchone()
        if low is None:
            low = high = day
        staged, staged_keys = con.execute(
            "select count(*), count(distinct (event_id, event_date)) from staging.stg_lake__events "
            "where event_date between ? and ?",
            [low, high],
        ).fetchone()
        raw_distinct = con.execute(
            f"select count(distinct (event_id, event_date)) from read_parquet('{glob}', "
            "hive_partitioning = true) where event_date between ? and ?",
            [low, high],
        ).fetchone()[0]
        frame = con.execute(
            "select ? as batch_date, ? as staged_from_batch, ? as staged_minus_raw_distinct, "
            "? as staged_duplicates, ? as null_keys, datediff('day', ?::date, ?::date) "
            "as newest_event_date_minus_batch_date",
            [
                day.isoformat(),
                staged_from_batch,
                staged - raw_distinct,
                staged - staged_keys,
                null_keys,
                day,
                high,
            ],
        ).df()
    return frame


def marts_metrics(warehouse: Path, day: date):
    """Business invariants of the marts, and the day's headline numbers against history."""
    with _connect(warehouse) as con:
        return con.execute(
            """
            with funnel as (select * from marts.listing_funnel_daily),
            quality as (select * from marts.category_quality_daily),
            created as (
                select created_date, sum(listings_created) as created
                from marts.listings_daily group by created_date
            ),
            dau as (
                select activity_date, dau from marts.active_users_daily where platform = 'all'
            )
            select
                ?::varchar as run_date,
                (select count(*) from funnel where completion_rate not between 0 and 1)
                + (select count(*) from quality where wrong_category_rate not between 0 and 1
                    or acceptance_rate not between 0 and 1)
                + (select count(*) from marts.experiment_results
                    where p_value not between 0 and 1 or srm_p_value not between 0 and 1)
                    as rates_out_of_range,
                (select count(*) from funnel where listings_created > creations_started)
                    as funnel_more_created_than_started,
                -- a listing comes from a draft started that day or up to two days before
                (select count(*) from created c where c.created > (
                    select coalesce(sum(f.creations_started), 0) from funnel f
                    where f.funnel_date between c.created_date - 2 and c.created_date))
                    as listings_without_drafts,
                (select count(*) from marts.active_users_daily
                    where not (dau <= wau and wau <= mau)) as active_users_not_nested,
                (select count(*) from marts.promotion_revenue_daily
                    where revenue < 0 or purchases <= 0) as bad_revenue_rows,
                (select coalesce(max(dau), 0) from dau where activity_date = ?::date)
                    as dau_on_run_date,
                (select max(dau) from dau where activity_date = ?::date)
                / nullif((select avg(dau) from dau where activity_date between ?::date - 7
                    and ?::date - 1), 0) as dau_vs_trailing_week,
                (select min(srm_p_value) from marts.experiment_results) as min_srm_p_value
            """,
            [day.isoformat(), day, day, day, day],
        ).df()


def run_staging_gate(data_dir: Path, warehouse: Path, day: date) -> GateResult:
    frame = staging_metrics(data_dir, warehouse, day)
    return validate_frame(
        load_suite("staging_events"), frame, data_dir / "quality", label=day.isoformat()
    )


def run_marts_gate(data_dir: Path, warehouse: Path, day: date) -> GateResult:
    frame = marts_metrics(warehouse, day)
    return validate_frame(load_suite("marts"), frame, data_dir / "quality", label=day.isoformat())
