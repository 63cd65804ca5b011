"""Great Expectations' SQL engine on a real DuckDB file, through duckdb-engine.

Without the adapter GX reads each result after its connection went back to the pool, and every
expectation fails with no observed value (upstream issues #10738, #11579). With it, expectations
that should pass pass, those that should fail fail, with the observed values and offending rows
computed in DuckDB; and it works while another connection of this process holds the file, as dbt
does during a run.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx
import great_expectations.expectations as gxe

from dataplatform.gates.sql_adapter import DuckDBDatasource

ROWS = [
    (1, "active", 10.0),
    (2, "active", 20.0),
    (3, "sold", None),
    (3, "deleted", -5.0),
    (5, "active", 30.0),
]


@pytest.fixture
def listings_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table listings (listing_id integer, status varchar, price double)")
        con.executemany("insert into listings values (?, ?, ?)", ROWS)
        con.execute("create schema marts")
        con.execute("create table marts.big as select range as n from range(100000)")
    return path


@pytest.fixture
def context():
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    return context


def _batch(context, listings_db: Path, query: str):
    source = context.data_sources.add_duckdb("shop", database=str(listings_db))
    batch = source.add_query_asset("q", query=query).add_batch_definition_whole_table("b")
    return source, batch.get_batch()


def test_plain_sql_datasource_loses_every_result(context, listings_db):
    """The upstream bug, as it shows on this machine's pins. If this starts failing, GX reads
    results inside the connection now, and the adapter's execute_query override can go."""
    source = context.data_sources.add_sql("plain", connection_string=f"duckdb:///{listings_db}")
    batch = source.add_table_asset("listings", table_name="listings")
    result = (
        batch.add_batch_definition_whole_table("b")
        .get_batch()
        .validate(gxe.ExpectTableRowCountToEqual(value=len(ROWS)))
    )
    assert not result.success
    assert result.result == {}
    assert "list index out of range" in str(result.exception_info)


def test_the_cause_is_the_rollback_of_closing_the_connection(listings_db):
    """What the adapter works around: a result read after its SQLAlchemy connection closed is
    empty, even with the pool's reset-on-return off (closing rolls the implicit transaction
    back, and DuckDB drops the pending result); read inside, it is complete."""
    engine = sa.create_engine(f"duckdb:///{listings_db}", pool_reset_on_return=None)
    with engine.connect() as con:
        result = con.execute(sa.text("select count(*) from listings"))
    after_close = result.fetchall()  # as GX's callers do
    with engine.connect() as con:
        inside = con.execute(sa.text("select count(*) from listings")).fetchall()
    engine.dispose()
    assert after_close == []
    assert inside == [(len(ROWS),)]


@pytest.mark.parametrize(
    ("expectation", "success", "expected"),
    [
        (gxe.ExpectTableRowCountToEqual(value=5), True, {"observed_value": 5}),
        (gxe.ExpectTableRowCountToEqual(value=6), False, {"observed_value": 5}),
        (
            gxe.ExpectColumnValuesToBeUnique(column="listing_id"),
            False,
            {"unexpected_count": 2, "partial_unexpected_list": [3, 3]},
        ),
        (
            gxe.ExpectColumnValuesToNotBeNull(column="price"),
            False,
            {"unexpected_count": 1, "element_count": 5},
        ),
        (
            gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0, max_value=100),
            False,
            {"unexpected_count": 1, "partial_unexpected_list": [-5.0]},
        ),
        (
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["active", "sold"]),
            False,
            {"unexpected_count": 1, "partial_unexpected_list": ["deleted"]},
        ),
        (
            gxe.ExpectColumnValuesToBeInSet(
                column="status", value_set=["active", "sold", "deleted"]
            ),
            True,
            {"unexpected_count": 0},
        ),
        (
            gxe.ExpectColumnMaxToBeBetween(column="price", max_value=50),
            True,
            {"observed_value": 30.0},
        ),
        (
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="listing_id", column_B="price", or_equal=True
            ),
            False,
            {"unexpected_count": 3},
        ),
    ],
    ids=[
        "row_count_pass",
        "row_count_fail",
        "unique",
        "not_null",
        "between",
        "in_set_fail",
        "in_set_pass",
        "max_between",
        "pair_a_ge_b",
    ],
)
def test_expectations_pass_and_fail_with_observed_values(
    context, listings_db, expectation, success, expected
):
    source, batch = _batch(context, listings_db, "select * from listings")
    result = batch.validate(expectation)
    source.dispose()
    assert result.exception_info.get("raised_exception") in (None, False), result.exception_info
    assert result.success is success
    assert {key: result.result.get(key) for key in expected} == expected


def test_a_query_asset_validates_the_query_rows(context, listings_db):
    source, batch = _batch(
        context, listings_db, "select * from listings where status = 'active' and price > 15"
    )
    count = batch.validate(gxe.ExpectTableRowCountToBeBetween(min_value=2, max_value=2))
    mean = batch.validate(gxe.ExpectColumnMeanToBeBetween(column="price", min_value=24))
    source.dispose()
    assert count.success and count.result["observed_value"] == 2
    assert mean.success and mean.result["observed_value"] == 25.0


def test_the_rows_stay_in_duckdb(context, listings_db):
    """Every one of 100,000 rows fails; GX gets the count from DuckDB and only a sample back."""
    source, batch = _batch(context, listings_db, "select * from marts.big")
    result = batch.validate(gxe.ExpectColumnValuesToBeBetween(column="n", max_value=-1))
    engine = source.get_execution_engine()
    source.dispose()
    assert not result.success
    assert result.result["unexpected_count"] == 100_000
    assert len(result.result["partial_unexpected_list"]) == 20
    assert engine.queries >= 2
    assert engine.rows_fetched <= 25


def test_it_shares_the_file_with_a_connection_this_process_holds(context, listings_db):
    """dbt keeps the warehouse open for the life of the process; duckdb-engine alone is refused
    a second connection with its own settings, the adapter's connections are not."""
    holder = duckdb.connect(str(listings_db))
    try:
        with pytest.raises(sa.exc.DBAPIError, match="different configuration"):
            sa.create_engine(f"duckdb:///{listings_db}").connect()
        source, batch = _batch(context, listings_db, "select * from listings")
        result = batch.validate(gxe.ExpectTableRowCountToEqual(value=len(ROWS)))
        source.dispose()
        assert result.success, result.exception_info
    finally:
        holder.close()


def test_the_datasource_is_a_sql_datasource_named_by_its_file(listings_db):
    source = DuckDBDatasource(name="x", database=str(listings_db))
    assert source.connection_string == f"duckdb:///{listings_db}"
    assert source.type == "duckdb"
