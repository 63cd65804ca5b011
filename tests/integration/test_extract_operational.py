"""Incremental extraction of the operational database, against SQLite and a real PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from dataplatform.extract.operational import (
    SourceError,
    extract_all,
    extraction_dir,
    promote_extractions,
)
from dataplatform.gates.operational import run_operational_gate

DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 2)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def create_source(url: str, *, bad_email: bool = False, drop_column: str | None = None) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    timestamp = sa.DateTime(timezone=True) if not url.startswith("sqlite") else sa.String
    listing_columns = [
        sa.Column("listing_id", sa.Integer, primary_key=True),
        sa.Column("seller_id", sa.String),
        sa.Column("category_id", sa.Integer),
        sa.Column("title", sa.String),
        sa.Column("description", sa.String),
        sa.Column("price", sa.Numeric(12, 2)),
        sa.Column("currency", sa.String),
        sa.Column("status", sa.String),
        sa.Column("created_at", timestamp),
        sa.Column("updated_at", timestamp),
    ]
    users = sa.Table(
        "users",
        meta,
        sa.Column("user_id", sa.String, primary_key=True),
        sa.Column("email", sa.String),
        sa.Column("phone", sa.String),
        sa.Column("full_name", sa.String),
        sa.Column("country", sa.String),
        sa.Column("signup_at", timestamp),
        sa.Column("is_seller", sa.Boolean),
        sa.Column("updated_at", timestamp),
    )
    listings = sa.Table("listings", meta, *[c for c in listing_columns if c.name != drop_column])
    categories = sa.Table(
        "categories",
        meta,
        sa.Column("category_id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("name", sa.String),
    )
    meta.drop_all(engine)
    meta.create_all(engine)

    def when(text: str):
        # SQLite keeps text: use the "T" spelling the demo generator writes, to prove the
        # comparison is by instant, not by string.
        return text.replace(" ", "T") + "Z" if url.startswith("sqlite") else _ts(text)

    with engine.begin() as con:
        con.execute(
            users.insert(),
            [
                {
                    "user_id": "u1",
                    "email": "anna@example.com",
                    "phone": "+48 600 100 200",
                    "full_name": "Anna Nowak",
                    "country": "PL",
                    "signup_at": when("2026-10-01 08:00:00"),
                    "is_seller": True,
                    "updated_at": when("2026-10-01 08:00:00"),
                },
                {
                    "user_id": "u2",
                    "email": "not-an-email" if bad_email else "ben@example.org",
                    "phone": None,
                    "full_name": "Ben Braun",
                    "country": "DE",
                    "signup_at": when("2026-11-02 09:00:00"),
                    "is_seller": False,
                    "updated_at": when("2026-11-02 09:00:00"),
                },
            ],
        )
        rows = [
            {
                "listing_id": 1,
                "seller_id": "u1",
                "category_id": 11,
                "title": "Bike",
                "description": "Red bike",
                "price": 100,
                "currency": "PLN",
                "status": "active",
                "created_at": when("2026-11-01 10:00:00"),
                "updated_at": when("2026-11-01 23:59:59"),
            },
            {
                "listing_id": 2,
                "seller_id": "u1",
                "category_id": 12,
                "title": "Phone",
                "description": "Call me",
                "price": 50,
                "currency": "EUR",
                "status": "active",
                "created_at": when("2026-11-02 10:00:00"),
                "updated_at": when("2026-11-02 10:00:00"),
            },
        ]
        con.execute(
            listings.insert(), [{k: v for k, v in r.items() if k != drop_column} for r in rows]
        )
        con.execute(
            categories.insert(),
            [
                {"category_id": 1, "parent_id": None, "name": "Sports"},
                {"category_id": 11, "parent_id": 1, "name": "Bikes"},
                {"category_id": 12, "parent_id": 1, "name": "Phones"},
            ],
        )
    engine.dispose()


def change_listing_category(url: str, listing_id: int, category_id: int, at: str) -> None:
    engine = sa.create_engine(url)
    value = at.replace(" ", "T") + "Z" if url.startswith("sqlite") else _ts(at)
    with engine.begin() as con:
        con.execute(
            sa.text("update listings set category_id = :c, updated_at = :u where listing_id = :i"),
            {"c": category_id, "u": value, "i": listing_id},
        )
    engine.dispose()


def _rows(lake_dir: Path, table: str, day: date, columns: str) -> list[tuple]:
    folder = extraction_dir(lake_dir, table, day)
    return duckdb.sql(
        f"select {columns} from read_parquet('{folder}/*.parquet') order by all"
    ).fetchall()


@pytest.fixture(params=["sqlite", "postgres"])
def source_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'source.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    return url


def _extract_and_publish(url: str, data_dir: Path, day: date) -> None:
    extract_all(url, data_dir / "lake", day)
    assert run_operational_gate(data_dir, day).success
    promote_extractions(data_dir / "lake", day)


def test_incremental_extraction_keeps_history(source_url, tmp_path):
    create_source(source_url)
    lake_dir = tmp_path / "lake"

    _extract_and_publish(source_url, tmp_path, DAY1)
    assert _rows(lake_dir, "users", DAY1, "user_id") == [("u1",)]
    assert _rows(lake_dir, "listings", DAY1, "listing_id, category_id") == [(1, 11)]

    change_listing_category(source_url, 1, 12, "2026-11-02 12:00:00")
    _extract_and_publish(source_url, tmp_path, DAY2)

    assert _rows(lake_dir, "users", DAY2, "user_id, email") == [("u2", "ben@example.org")]
    # Listing 1's category change is a new version; the day-1 version stays in the lake.
    assert _rows(lake_dir, "listings", DAY2, "listing_id, category_id") == [(1, 12), (2, 12)]
    history = duckdb.sql(
        f"select extracted_date, category_id from read_parquet("
        f"'{lake_dir}/raw/operational/listings/*/*.parquet', hive_partitioning=true) "
        "where listing_id = 1 order by extracted_date"
    ).fetchall()
    assert [c for _, c in history] == [11, 12]
    assert _rows(lake_dir, "categories", DAY2, "count(*)") == [(3,)]
    [(updated_at,)] = _rows(lake_dir, "listings", DAY1, "updated_at")
    assert updated_at == _ts("2026-11-01 23:59:59")


def test_rerun_of_a_date_gives_the_same_extraction(source_url, tmp_path):
    create_source(source_url)
    _extract_and_publish(source_url, tmp_path, DAY1)
    _extract_and_publish(source_url, tmp_path, DAY2)
    before = _rows(tmp_path / "lake", "listings", DAY2, "*")
    _extract_and_publish(source_url, tmp_path, DAY2)
    assert _rows(tmp_path / "lake", "listings", DAY2, "*") == before


def test_malformed_email_fails_the_gate(source_url, tmp_path):
    create_source(source_url, bad_email=True)
    extract_all(source_url, tmp_path / "lake", DAY2)
    result = run_operational_gate(tmp_path, DAY2)
    assert not result.success
    assert [(f.column, f.observed) for f in result.failures] == [("users_invalid_emails", 1)]
    assert not extraction_dir(tmp_path / "lake", "users", DAY2).exists()


def test_missing_column_is_a_clear_error(source_url, tmp_path):
    create_source(source_url, drop_column="currency")
    with pytest.raises(SourceError, match=r"table 'listings' lacks column\(s\) currency"):
        extract_all(source_url, tmp_path / "lake", DAY1)


def test_unreachable_postgres_is_a_clear_error(tmp_path):
    url = "postgresql+psycopg2://app:secret@127.0.0.1:1/shop"
    with pytest.raises(SourceError, match="cannot read the operational database") as err:
        extract_all(url, tmp_path / "lake", DAY1)
    assert "secret" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:////nonexistent/shop.sqlite", "does not exist"),
        ("not a url", "cannot use SOURCE_DB_URL"),
        ("nosuchdb://host/x", "cannot use SOURCE_DB_URL"),
    ],
)
def test_bad_source_urls_are_clear_errors(tmp_path, url, message):
    with pytest.raises(SourceError, match=message):
        extract_all(url, tmp_path / "lake", DAY1)
