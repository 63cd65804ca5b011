"""Grants and file permissions from the role definitions the publish step uses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from dataplatform.cli import main
from dataplatform.grants import (
    GrantsError,
    file_permission_commands,
    grant_statements,
    role_objects_from_manifest,
    role_objects_from_warehouse,
)

ROLE_VIEWS = {
    "analyst": ["active_users_daily", "listings_daily"],
    "data_scientist": ["active_users_daily", "category_training_set", "listings_daily"],
    "pii_reader": ["active_users_daily", "category_training_set", "listings_daily", "users"],
}


def test_a_warehouse_role_schemas_are_the_role_definitions(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.listings_daily as select 1 as n")
        for role, views in ROLE_VIEWS.items():
            con.execute(f"create schema {role}")
            for view in views:
                con.execute(f"create view {role}.{view} as select * from marts.listings_daily")
    assert role_objects_from_warehouse(warehouse) == ROLE_VIEWS


def test_postgres_grants_give_each_role_exactly_its_schema():
    statements = grant_statements({"analyst": ROLE_VIEWS["analyst"]}, "postgres")
    assert statements == [
        "-- analyst: 2 views of schema analyst",
        "DO $$ BEGIN CREATE ROLE analyst NOLOGIN; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
        "GRANT USAGE ON SCHEMA analyst TO analyst;",
        "REVOKE ALL ON ALL TABLES IN SCHEMA analyst FROM analyst;",
        "GRANT SELECT ON analyst.active_users_daily TO analyst;",
        "GRANT SELECT ON analyst.listings_daily TO analyst;",
    ]


def test_snowflake_grants_qualify_with_the_database_and_prefix_the_roles():
    statements = grant_statements(
        {"pii_reader": ["users"]}, "snowflake", database="analytics", role_prefix="dp_"
    )
    assert statements == [
        "-- pii_reader: 1 views of schema analytics.pii_reader",
        "CREATE ROLE IF NOT EXISTS dp_pii_reader;",
        "GRANT USAGE ON DATABASE analytics TO ROLE dp_pii_reader;",
        "GRANT USAGE ON SCHEMA analytics.pii_reader TO ROLE dp_pii_reader;",
        "REVOKE SELECT ON ALL VIEWS IN SCHEMA analytics.pii_reader FROM ROLE dp_pii_reader;",
        "GRANT SELECT ON VIEW analytics.pii_reader.users TO ROLE dp_pii_reader;",
    ]


@pytest.mark.parametrize(
    ("objects", "kwargs", "message"),
    [
        ({"analyst": ["users; drop table x"]}, {}, "not a plain lower-case SQL identifier"),
        ({"intern": ["users"]}, {}, "unknown role 'intern'"),
        ({"analyst": ["users"]}, {"dialect": "oracle"}, "unknown dialect"),
    ],
)
def test_what_cannot_become_a_grant_is_refused_with_a_reason(objects, kwargs, message):
    with pytest.raises(GrantsError, match=message):
        grant_statements(objects, **kwargs)


def test_file_permissions_map_each_role_file_to_its_group(tmp_path):
    assert file_permission_commands(tmp_path / "v1", ["analyst"], group_prefix="dp_") == [
        f"chgrp dp_analyst {tmp_path}/v1/analyst.duckdb",
        f"chmod 0440 {tmp_path}/v1/analyst.duckdb",
    ]
    # A role's segments (the Parquet files its views read) go to its group too.
    version = tmp_path / "published" / "versions" / "v2"
    (tmp_path / "published" / "segments" / "pii_reader" / "listing_facts").mkdir(parents=True)
    segments = tmp_path / "published" / "segments" / "pii_reader"
    assert file_permission_commands(version, ["pii_reader"])[2:] == [
        f"chgrp -R pii_reader {segments}",
        f"chmod -R u=rX,g=rX,o= {segments}",
    ]


def _publish_manifest(data_dir: Path, version_id: str, tables: dict) -> None:
    """A published layout as publish leaves it: a version with its manifest, and current."""
    published = data_dir / "published"
    version = published / "versions" / version_id
    version.mkdir(parents=True)
    (version / "manifest.json").write_text(
        json.dumps(
            {"version_id": version_id, "published_at": "2026-11-05T00:00:00", "tables": tables}
        )
    )
    os.symlink(Path("versions") / version_id, published / "current")


def test_the_cli_prints_the_grants_of_the_current_version(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["grants"]) == 2
    assert "nothing published" in capsys.readouterr().err
    _publish_manifest(tmp_path, "2026-11-04-abc", ROLE_VIEWS)
    assert (
        role_objects_from_manifest(
            json.loads((tmp_path / "published/current/manifest.json").read_text())
        )
        == ROLE_VIEWS
    )
    assert main(["grants", "--dialect", "snowflake", "--database", "analytics"]) == 0
    out = capsys.readouterr().out
    assert "-- roles of published version 2026-11-04-abc (snowflake)" in out
    assert "GRANT SELECT ON VIEW analytics.pii_reader.users TO ROLE pii_reader;" in out
    assert "analyst.users" not in out
    assert main(["grants", "--dialect", "files", "--prefix", "dp_"]) == 0
    version = tmp_path / "published" / "versions" / "2026-11-04-abc"
    assert f"chgrp dp_data_scientist {version}/data_scientist.duckdb" in capsys.readouterr().out
