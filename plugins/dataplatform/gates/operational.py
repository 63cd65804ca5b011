"""The gate on an operational extraction: keys, formats and references, before readers see it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from dataplatform.extract.operational import TABLES, pending_extraction_dir
from dataplatform.gates.runner import GateResult, load_suite, validate_frame

SUITE = "raw_operational"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _parquet(lake_dir: Path, table: str, day: date) -> str:
    return str(pending_extraction_dir(lake_dir, table, day) / "*.parquet")


def extraction_metrics(lake_dir: Path, day: date):
    """One row of metrics over the pending extraction, aggregated in DuckDB."""
    users, listings, categories = (_parquet(lake_dir, t, day) for t in TABLES)
    empty_ok = "union_by_name = true"
    with duckdb.connect() as con:
        # An incremental extraction may have no rows (and so no file) for a table.
        def table_sql(glob: str, columns: str) -> str:
            files = list(Path(glob).parent.glob("*.parquet"))
            if files:
                return f"(select * from read_parquet('{glob}', {empty_ok}))"
            return f"(select {columns} where false)"

        users_sql = table_sql(
            users, "null::varchar as user_id, null::varchar as email, null::varchar as phone"
        )
        listings_sql = table_sql(
            listings,
            "null::bigint as listing_id, null::bigint as category_id, null::double as price",
        )
        categories_sql = table_sql(
            categories, "null::bigint as category_id, null::bigint as parent_id"
        )
        return con.execute(
            f"""
            select
                (select count(*) from {users_sql}) as users_rows,
                (select count(*) - count(distinct user_id) from {users_sql})
                    as users_duplicate_keys,
                (select count(*) filter (user_id is null) from {users_sql}) as users_null_keys,
                (select count(*) filter (not regexp_full_match(email, ?)) from {users_sql})
                    as users_invalid_emails,
                (select count(*) from {listings_sql}) as listings_rows,
                (select count(*) - count(distinct listing_id) from {listings_sql})
                    as listings_duplicate_keys,
                (select count(*) filter (price < 0) from {listings_sql})
                    as listings_negative_prices,
                (select count(*) filter (category_id is null) from {listings_sql})
                    as listings_null_categories,
                (select count(*) from {categories_sql}) as categories_rows,
                (select count(*) - count(distinct category_id) from {categories_sql})
                    as categories_duplicate_keys,
                (select count(*) from {categories_sql} c
                    where c.parent_id is not null
                    and c.parent_id not in (select category_id from {categories_sql}))
                    as categories_orphans
            """,
            [EMAIL_PATTERN],
        ).df()


def run_operational_gate(data_dir: Path, day: date) -> GateResult:
    frame = extraction_metrics(data_dir / "lake", day)
    frame.insert(0, "extracted_date", day.isoformat())
    return validate_frame(
        load_suite(SUITE),
        frame,
        data_dir / "quality",
        label=day.isoformat(),
    )
