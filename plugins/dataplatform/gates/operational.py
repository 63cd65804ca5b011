"""The gate on an operational extraction: keys, formats and references, before readers see it.

The pending extraction's Parquet files become views of the gate's scratch database; one row of
metrics (duplicate keys, malformed e-mails, orphan categories...) is aggregated there by DuckDB
and validated by Great Expectations. The metrics are counts, never values: the users table holds
personal data, and nothing of it may reach a result, the Data Docs or an alert.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dataplatform.extract.operational import TABLES, pending_extraction_dir
from dataplatform.gates import workspace
from dataplatform.gates.runner import Asset, GateResult, load_suite, run_gate

SUITE = "raw_operational"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# The columns the metrics read, for a table the incremental extraction found no change in.
EMPTY_TABLES = {
    "users": "null::varchar as user_id, null::varchar as email, null::varchar as phone",
    "listings": "null::bigint as listing_id, null::bigint as category_id, null::double as price",
    "categories": "null::bigint as category_id, null::bigint as parent_id",
}

METRICS_SQL = """
create table extraction_metrics as
select
    $extracted_date::date as extracted_date,
    (select count(*) from users) as users_rows,
    (select count(*) - count(distinct user_id) from users) as users_duplicate_keys,
    (select count(*) filter (user_id is null) from users) as users_null_keys,
    (select count(*) filter (not regexp_full_match(email, $email_pattern)) from users)
        as users_invalid_emails,
    (select count(*) from listings) as listings_rows,
    (select count(*) - count(distinct listing_id) from listings) as listings_duplicate_keys,
    (select count(*) filter (price < 0) from listings) as listings_negative_prices,
    (select count(*) filter (category_id is null) from listings) as listings_null_categories,
    (select count(*) from categories) as categories_rows,
    (select count(*) - count(distinct category_id) from categories) as categories_duplicate_keys,
    (select count(*) from categories as c
        where c.parent_id is not null
        and c.parent_id not in (select category_id from categories)) as categories_orphans
"""


def prepare_extraction(work: Path, lake_dir: Path, day: date) -> dict:
    """In the scratch database ``work``: a view per extracted table and the one-row table
    ``extraction_metrics``; returns that row."""
    with workspace.connect(work) as con:
        for table in TABLES:
            # An incremental extraction may have no rows (and so no file) for a table.
            files = list(pending_extraction_dir(lake_dir, table, day).glob("*.parquet"))
            source = (
                f"select * from read_parquet({workspace.parquet_list(files)}, union_by_name = true)"
                if files
                else f"select {EMPTY_TABLES[table]} where false"
            )
            con.execute(f"create view {table} as {source}")
        con.execute(
            METRICS_SQL, {"extracted_date": day.isoformat(), "email_pattern": EMAIL_PATTERN}
        )
        return workspace.one_row(con, "extraction_metrics")


def run_operational_gate(data_dir: Path, day: date) -> GateResult:
    with workspace.scratch_database("operational") as work:
        metrics = prepare_extraction(work, data_dir / "lake", day)
        return run_gate(
            load_suite(SUITE),
            {
                "extraction_metrics": Asset(
                    work, "extraction_metrics", source="extraction", row_ref="extracted_date"
                )
            },
            data_dir / "quality",
            label=day.isoformat(),
            metrics=metrics,
        )
