"""Published versions: the atomic ``current`` pointer, rollback, retention, open readers, and
the segments that versions share."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dataplatform.publish.lineage import BOOKKEEPING
from dataplatform.publish.publish import MAX_ARRIVALS, SEGMENTED, publish_candidate
from dataplatform.publish.versions import (
    PublishedLayout,
    VersionError,
    current_version,
    list_versions,
    point_current_at,
    prune,
    read_manifest,
    role_database,
    segment_files,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for role in ("analyst", "data_scientist", "pii_reader"):
            con.execute(f"create schema {role}")
            con.execute(f"create table {role}.metric as select 1 as value, '{role}' as role")
    return path


def _set_value(warehouse: Path, value: int) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for role in ("analyst", "data_scientist", "pii_reader"):
            con.execute(f"update {role}.metric set value = {value}")


def test_publish_writes_one_file_per_role_and_switches_current(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    layout = PublishedLayout(tmp_path / "published")
    assert current_version(layout) == "v1"
    for role in ("analyst", "data_scientist", "pii_reader"):
        with duckdb.connect(str(layout.current / f"{role}.duckdb"), read_only=True) as con:
            assert con.execute("select role from metric").fetchall() == [(role,)]
    manifest = json.loads((layout.current / "manifest.json").read_text())
    assert manifest["version_id"] == "v1" and manifest["tables"]["analyst"] == ["metric"]


def test_a_reader_keeps_its_version_while_a_new_one_is_published(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    layout = PublishedLayout(tmp_path / "published")
    reader = duckdb.connect(str(layout.current / "analyst.duckdb"), read_only=True)
    _set_value(warehouse, 2)
    publish_candidate(tmp_path, warehouse, "v2", {"logical_date": "2026-11-02"})
    assert reader.execute("select value from metric").fetchall() == [(1,)]
    reader.close()
    with duckdb.connect(str(layout.current / "analyst.duckdb"), read_only=True) as con:
        assert con.execute("select value from metric").fetchall() == [(2,)]


def test_rollback_is_atomic_and_refuses_unknown_versions(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    publish_candidate(tmp_path, warehouse, "v2", {"logical_date": "2026-11-02"})
    layout = PublishedLayout(tmp_path / "published")
    point_current_at(layout, "v1")
    assert current_version(layout) == "v1"
    assert os.path.islink(layout.current)
    with pytest.raises(VersionError, match="no published version 'v9'"):
        point_current_at(layout, "v9")
    assert current_version(layout) == "v1"


def test_retention_keeps_the_newest_and_never_the_current(tmp_path, warehouse):
    for number in range(1, 6):
        publish_candidate(tmp_path, warehouse, f"v{number}", {"logical_date": "x"}, keep=100)
    layout = PublishedLayout(tmp_path / "published")
    point_current_at(layout, "v1")
    removed = prune(layout, keep=2)
    assert removed == ["v2", "v3"]
    assert [m["version_id"] for m in list_versions(layout)] == ["v1", "v4", "v5"]


def test_versions_command(tmp_path, warehouse):
    publish_candidate(tmp_path, warehouse, "v1", {"logical_date": "2026-11-01"})
    publish_candidate(tmp_path, warehouse, "v2", {"logical_date": "2026-11-02"})
    env = {**os.environ, "DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO / "plugins")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dataplatform", "versions", *args],
            env=env,
            capture_output=True,
            text=True,
        )

    listing = cli()
    assert listing.returncode == 0 and "* v2" in listing.stdout and "  v1" in listing.stdout
    assert cli("rollback", "v1").returncode == 0
    assert "* v1" in cli("list").stdout
    assert json.loads(cli("show", "v2").stdout)["version_id"] == "v2"
    bad = cli("rollback", "v7")
    assert bad.returncode == 2 and "no published version 'v7'" in bad.stderr
    assert "Traceback" not in bad.stderr


# Segments: the tables that grow with history are views over Parquet segments shared between
# versions. Buckets of 10 listings here (32,768 in production).

ROLE_TABLES = [(r, t) for r in ("data_scientist", "pii_reader") for t in SEGMENTED]


@pytest.fixture
def small_buckets(monkeypatch):
    for name, rule in SEGMENTED.items():
        monkeypatch.setitem(SEGMENTED, name, dataclasses.replace(rule, bucket=10))


@pytest.fixture
def listings(tmp_path) -> Path:
    """A warehouse whose role schemas hold views like the access layer's: listing facts (the
    data scientist's with a pseudonymised seller), a training set stamped with the version."""
    path = tmp_path / "listings.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table listings as select i as listing_id, 'seller-' || (i % 7) as seller_id, "
            "timestamp '2026-11-01' + to_minutes(i) as created_at, (i % 5)::bigint as category_id, "
            "(i * 1.5)::decimal(18, 2) as price, 'title ' || i as title, "
            "case when i % 4 = 0 then null else 'text of ' || i end as description, "
            "(i % 3)::bigint as contacts from range(1, 36) as t(i)"
        )
        con.execute("create table stamp as select 'unpublished' as version_id")
        for role, seller in (("pii_reader", "seller_id"), ("data_scientist", None)):
            con.execute(f"create schema {role}")
            seller = seller or "'p_' || left(sha256(seller_id), 12) as seller_key"
            con.execute(
                f"create view {role}.listing_facts as select listing_id, {seller}, created_at, "
                "category_id, price, title, description, contacts from listings"
            )
            con.execute(
                f"create view {role}.category_training_set as select listing_id, title, "
                "description, category_id, case when listing_id % 5 = 0 then 'validation' "
                "else 'train' end as split, stamp.version_id from listings, stamp"
            )
        con.execute("create schema analyst")
        con.execute("create table analyst.metric as select 1 as value")
    return path


def _change(warehouse: Path, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for statement in statements:
            con.execute(statement)


def _publish(data_dir: Path, warehouse: Path, version: str, keep: int = 100) -> dict:
    """Publish ``version`` (stamped into the training set, as dbt does) and return its
    manifest."""
    _change(warehouse, f"update stamp set version_id = '{version}'")
    publish_candidate(data_dir, warehouse, version, {"logical_date": "2026-11-01"}, keep=keep)
    layout = PublishedLayout(data_dir / "published")
    return json.loads((layout.version_dir(version) / "manifest.json").read_text())


def _files(manifest: dict, role: str, table: str) -> list[list[str]]:
    groups = manifest["segments"][role][table]["groups"]
    return [[s["file"] for s in group["segments"]] for group in groups]


def _differences(data_dir: Path, version: str, warehouse: Path, role: str, table: str) -> int:
    """Rows in one and not the other, both ways, between the published view and the
    warehouse's access view."""
    path = PublishedLayout(data_dir / "published").version_dir(version) / f"{role}.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{path}' as published (read_only)")
        return con.execute(
            f"select count(*) from ((select * from published.{table} except all "
            f"select * from {role}.{table}) union all (select * from {role}.{table} "
            f"except all select * from published.{table}))"
        ).fetchone()[0]


def _describe(database: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(f"describe {query}").fetchall()


def test_a_segmented_table_is_a_view_with_the_access_views_columns_types_and_rows(
    tmp_path, listings, small_buckets, monkeypatch
):
    manifest = _publish(tmp_path, listings, "v1")
    layout = PublishedLayout(tmp_path / "published")
    for role, table in ROLE_TABLES:
        path = layout.current / f"{role}.duckdb"
        with duckdb.connect(str(path), read_only=True) as con:
            kind = con.execute(
                "select table_type from information_schema.tables where table_name = ?", [table]
            ).fetchone()
        assert kind == ("VIEW",), (role, table)
        # the same column names, order and types as the access view in the warehouse
        assert _describe(path, table) == _describe(listings, f"{role}.{table}"), (role, table)
        assert _differences(tmp_path, "v1", listings, role, table) == 0, (role, table)
    # 35 listings in buckets of 10: 4 segments of stable columns; the contacts apart, whole
    stable, changing = _files(manifest, "pii_reader", "listing_facts")
    assert len(stable) == 4 and len(changing) == 1
    assert manifest["segments"]["pii_reader"]["category_training_set"]["constants"] == {
        "version_id": "v1"
    }
    for name in {f for r, t in ROLE_TABLES for g in _files(manifest, r, t) for f in g}:
        assert stat.S_IMODE((layout.root / name).stat().st_mode) == 0o440, name
        assert name.startswith(f"segments/{name.split('/')[1]}/")  # one folder per role
    # the version stamp is not stored in the segments
    segment = layout.root / _files(manifest, "pii_reader", "category_training_set")[0][0]
    with duckdb.connect() as con:
        stored = con.execute(f"describe select * from '{segment}'").fetchall()
    assert "version_id" not in [c[0] for c in stored]
    # a reader anywhere opens the file and reads every object
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with duckdb.connect(str(layout.current / "data_scientist.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from listing_facts").fetchone() == (35,)
        assert con.execute("select distinct version_id from category_training_set").fetchall() == [
            ("v1",)
        ]


def test_a_publish_of_new_listings_writes_only_their_segments(
    tmp_path, listings, small_buckets, caplog
):
    caplog.set_level(logging.INFO, logger="dataplatform.publish.publish")
    first = _publish(tmp_path, listings, "v1")
    layout = PublishedLayout(tmp_path / "published")
    before = {p: p.stat() for p in (layout.root / "segments").rglob("*.parquet")}
    _change(
        listings,
        "insert into listings select i, 'seller-1', timestamp '2026-11-02', 2, 10.0, "
        "'new ' || i, 'more', 0 from range(36, 46) as t(i)",
    )
    second = _publish(tmp_path, listings, "v2")
    for role, table in ROLE_TABLES:
        (old, old_changing), (new, new_changing) = (
            _files(first, role, table),
            _files(second, role, table),
        )
        # buckets 0-2 are reused; bucket 3 got listings 36-39, bucket 4 is new
        assert new[:3] == old[:3] and new[3] != old[3] and len(new) == 5, (role, table)
        # the columns that change are one segment for the whole table: it has new rows
        assert new_changing != old_changing
        assert _differences(tmp_path, "v2", listings, role, table) == 0
    after = {p: p.stat() for p in (layout.root / "segments").rglob("*.parquet")}
    for path, status in before.items():  # no file rewritten
        assert (after[path].st_ino, after[path].st_mtime_ns) == (status.st_ino, status.st_mtime_ns)
    assert len(after) - len(before) == 2 * 2 * (2 + 1)  # per role and table: 2 buckets, 1 whole
    assert "published v2: 12 segments written, 12 reused" in caplog.text


def test_a_change_to_an_old_listing_rewrites_only_what_holds_it(tmp_path, listings, small_buckets):
    first = _publish(tmp_path, listings, "v1")
    _change(listings, "update listings set title = 'renamed' where listing_id = 12")
    renamed = _publish(tmp_path, listings, "v2")
    for role, table in ROLE_TABLES:
        (old, old_changing), (new, new_changing) = (
            _files(first, role, table),
            _files(renamed, role, table),
        )
        assert [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b] == [1]
        assert new_changing == old_changing
        assert _differences(tmp_path, "v2", listings, role, table) == 0
    _change(listings, "update listings set contacts = 9 where listing_id = 3")
    contacted = _publish(tmp_path, listings, "v3")
    for role in ("data_scientist", "pii_reader"):
        stable, changing = _files(contacted, role, "listing_facts")
        assert stable == _files(renamed, role, "listing_facts")[0]
        assert changing != _files(renamed, role, "listing_facts")[1]
        # the training set has no contacts: nothing of it changed
        assert _files(contacted, role, "category_training_set") == _files(
            renamed, role, "category_training_set"
        )


def test_an_older_version_reads_the_same_rows_after_later_publishes_and_pruning(
    tmp_path, listings, small_buckets
):
    _publish(tmp_path, listings, "v1")
    layout = PublishedLayout(tmp_path / "published")
    path = layout.version_dir("v1") / "data_scientist.duckdb"
    query = "select * from category_training_set order by listing_id"
    with duckdb.connect(str(path), read_only=True) as con:
        training = con.execute(query).fetchall()
    reader = duckdb.connect(str(path), read_only=True)  # held open all along
    _change(
        listings,
        "update listings set category_id = 4, description = 'changed' where listing_id < 15",
        "delete from listings where listing_id = 33",
    )
    _publish(tmp_path, listings, "v2")
    _change(listings, "insert into listings select 50, 's', now(), 1, 1, 't', 'd', 0")
    _publish(tmp_path, listings, "v3")
    _publish(tmp_path, listings, "v4")
    assert reader.execute(query).fetchall() == training
    point_current_at(layout, "v1")
    assert prune(layout, keep=1) == ["v2", "v3"]
    assert reader.execute(query).fetchall() == training
    reader.close()
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute(query).fetchall() == training
    assert {v for (*_, v) in training} == {"v1"}


def test_prune_deletes_the_segments_no_kept_version_lists(tmp_path, listings, small_buckets):
    _publish(tmp_path, listings, "v1")
    _change(listings, "update listings set title = 'renamed' where listing_id = 25")
    _publish(tmp_path, listings, "v2")
    _change(listings, "update listings set title = 'again' where listing_id = 25")
    _publish(tmp_path, listings, "v3")
    layout = PublishedLayout(tmp_path / "published")
    stray = layout.root / "segments" / "pii_reader" / "listing_facts" / "left-by-a-crash.parquet"
    stray.write_bytes(b"")

    def on_disk() -> set[str]:
        return {
            p.relative_to(layout.root).as_posix()
            for p in (layout.root / "segments").rglob("*.parquet")
        }

    listed = {v: segment_files([read_manifest(layout, v)]) for v in ("v1", "v2", "v3")}
    assert prune(layout, keep=2) == ["v1"]
    assert on_disk() == listed["v2"] | listed["v3"]
    assert listed["v1"] - on_disk() == listed["v1"] - listed["v2"] - listed["v3"] != set()
    assert listed["v1"] & on_disk()  # what v1 shared with the kept versions stays
    for role, table in ROLE_TABLES:
        assert _differences(tmp_path, "v3", listings, role, table) == 0


def test_a_moved_data_dir_is_read_through_role_database(tmp_path, listings, small_buckets):
    _publish(tmp_path / "before", listings, "v1")
    shutil.move(tmp_path / "before", tmp_path / "after")
    layout = PublishedLayout(tmp_path / "after" / "published")
    path = role_database(layout, "pii_reader")
    assert path.parent == layout.cache / "v1"
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*), count(description) from listing_facts").fetchone() == (
            35,
            27,
        )
    assert role_database(layout, "analyst") == layout.version_dir("v1") / "analyst.duckdb"


def test_a_key_naming_several_rows_a_stamp_of_several_values_and_an_empty_table(
    tmp_path, listings, small_buckets
):
    _change(
        listings,
        "insert into listings select * from listings where listing_id in (3, 14)",
        "create or replace view pii_reader.category_training_set as select listing_id, "
        "title, description, category_id, 'train' as split, 'x' as version_id "
        "from listings where false",
        "create or replace view data_scientist.category_training_set as select listing_id, "
        "title, description, category_id, 'train' as split, case when listing_id < 5 "
        "then 'v0' else stamp.version_id end as version_id from listings, stamp",
    )
    manifest = _publish(tmp_path, listings, "v1")
    # the contacts cannot be joined back on a key naming two rows: stored with the rest
    assert len(_files(manifest, "pii_reader", "listing_facts")) == 1
    # a stamp that is not one value is stored (with the changing columns)
    stamped = manifest["segments"]["data_scientist"]["category_training_set"]
    assert stamped["constants"] == {}
    assert "version_id" in [c for g in stamped["groups"] for c in g["columns"]]
    assert _files(manifest, "pii_reader", "category_training_set")[0][0].endswith(".parquet")
    path = PublishedLayout(tmp_path / "published").current / "pii_reader.duckdb"
    assert _describe(path, "category_training_set") == _describe(
        listings, "pii_reader.category_training_set"
    )
    for role, table in ROLE_TABLES:
        assert _differences(tmp_path, "v1", listings, role, table) == 0


# Lineage: with dbt's manifest, publishing reads the stable columns of the buckets whose sources
# changed only (dataplatform.publish.lineage), and publishes the same rows as reading them all.


def _lineage_views(warehouse: Path, version: str, title: str = "title") -> None:
    """Access views as dbt writes them: the training set stamped with the version as a literal,
    the facts joined with a small table of category names (read whole by every bucket)."""
    statements = []
    for role, seller in (("pii_reader", "seller_id"), ("data_scientist", None)):
        seller = seller or "'p_' || left(sha256(seller_id), 12) as seller_key"
        statements += [
            f"create or replace view {role}.listing_facts as select listing_id, {seller}, "
            f"created_at, listings.category_id, names.category_name, price, {title} as title, "
            "description, contacts from listings left join names "
            "on listings.category_id = names.category_id",
            f"create or replace view {role}.category_training_set as select listing_id, title, "
            "description, category_id, case when listing_id % 5 = 0 then 'validation' "
            f"else 'train' end as split, '{version}' as version_id from listings",
        ]
    _change(warehouse, *statements)


def _rehash(warehouse: Path, *statements: str) -> None:
    """Change the sources' rows as dbt does: their row_hash with them (bookkeeping aside)."""
    _change(warehouse, *statements)
    with duckdb.connect(str(warehouse)) as con:
        names = [
            c for (c,) in con.execute("select name from pragma_table_info('listings')").fetchall()
        ]
        content = ", ".join(c for c in names if c not in ("row_hash", *BOOKKEEPING))
        con.execute(f"update listings set row_hash = hash({content})")


@pytest.fixture
def lineage(tmp_path, listings, monkeypatch) -> Path:
    """The lineage of the access views in a dbt manifest; listings is their source."""
    _change(
        listings,
        "alter table listings add column row_hash ubigint",
        "create table names as select range::bigint as category_id, 'category ' || range "
        "as category_name from range(5)",
    )
    _rehash(listings)
    nodes, parents = {}, {}
    for name in ("listings", "names"):
        nodes[f"model.t.{name}"] = {
            "resource_type": "model",
            "config": {"materialized": "table"},
            "schema": "main",
            "name": name,
        }
    for role in ("pii_reader", "data_scientist"):
        for table, reads in (
            ("listing_facts", ["listings", "names"]),
            ("category_training_set", ["listings"]),
        ):
            uid = f"model.t.{role}_{table}"
            nodes[uid] = {
                "resource_type": "model",
                "config": {"materialized": "view"},
                "schema": role,
                "name": f"{role}__{table}",
                "alias": table,
            }
            parents[uid] = [f"model.t.{name}" for name in reads]
    path = tmp_path / "dbt_manifest.json"
    path.write_text(json.dumps({"nodes": nodes, "parent_map": parents}))
    for name, rule in SEGMENTED.items():
        monkeypatch.setitem(
            SEGMENTED, name, dataclasses.replace(rule, sources=("listings",), changing_sources=())
        )
    return path


def test_with_its_lineage_a_publish_reads_only_the_buckets_that_changed(
    tmp_path, listings, small_buckets, lineage, caplog
):
    caplog.set_level(logging.INFO, logger="dataplatform.publish.publish")

    def publish(version: str) -> str:
        _lineage_views(listings, version, title)
        caplog.clear()
        publish_candidate(
            tmp_path, listings, version, {"logical_date": "x"}, keep=100, dbt_manifest=lineage
        )
        for role, table in ROLE_TABLES:
            assert _differences(tmp_path, version, listings, role, table) == 0, (version, role)
        return caplog.text

    title = "title"
    # 35 listings in buckets of 10: 4 buckets in each of the 4 segmented tables
    assert "16 of 16 buckets read" in publish("v1")
    assert "0 of 16 buckets read" in publish("v2")  # nothing changed: nothing read
    _rehash(listings, "update listings set title = 'renamed' where listing_id = 12")
    assert "4 of 16 buckets read" in publish("v3")  # bucket 1 of each
    _rehash(listings, "update listings set contacts = contacts + 1 where listing_id = 31")
    assert "4 of 16 buckets read" in publish("v4")  # bucket 3 (its stable sum is the same)
    _change(listings, "update names set category_name = 'renamed' where category_id = 2")
    # a table that every bucket reads whole (the facts' names): all buckets of the facts
    assert "8 of 16 buckets read" in publish("v5")
    title = "upper(title)"  # the facts views' SQL changed: all of their buckets
    assert "8 of 16 buckets read" in publish("v6")
    assert "0 of 16 buckets read" in publish("v7")
    # a version that reads nothing writes the same segments as one that reads everything
    first, last = (read_manifest(PublishedLayout(tmp_path / "published"), v) for v in ("v6", "v7"))
    for role, table in ROLE_TABLES:
        assert _files(first, role, table) == _files(last, role, table)
    # a training set stamped with another value than the version id: its signatures cannot
    # tell its rows (they leave the version id out), so all of it is read
    _lineage_views(listings, "stale", title)
    caplog.clear()
    publish_candidate(tmp_path, listings, "v8", {"logical_date": "x"}, dbt_manifest=lineage)
    assert "8 of 16 buckets read" in caplog.text
    for role, table in ROLE_TABLES:
        assert _differences(tmp_path, "v8", listings, role, table) == 0, role


def test_with_its_lineage_a_bucket_that_got_new_rows_gets_a_segment_of_them_only(
    tmp_path, listings, small_buckets, lineage
):
    layout = PublishedLayout(tmp_path / "published")

    def publish(version: str) -> dict:
        _lineage_views(listings, version)
        publish_candidate(
            tmp_path, listings, version, {"logical_date": "x"}, keep=100, dbt_manifest=lineage
        )
        for role, table in ROLE_TABLES:
            assert _differences(tmp_path, version, listings, role, table) == 0, (version, role)
        return read_manifest(layout, version)

    def add(first: int, last: int) -> None:
        _rehash(
            listings,
            "insert into listings (listing_id, seller_id, created_at, category_id, price, title, "
            f"description, contacts) select i, 'seller-1', timestamp '2026-11-02', 2, 10.0, "
            f"'new ' || i, 'more', 0 from range({first}, {last}) as t(i)",
        )

    def bucket(manifest: dict, role: str, table: str, number: int) -> list[dict]:
        segments = manifest["segments"][role][table]["groups"][0]["segments"]
        return [s for s in segments if s["bucket"] == number]

    first = publish("v1")
    add(36, 38)  # bucket 3 (30-35) gets 36 and 37
    second = publish("v2")
    for role, table in ROLE_TABLES:
        before, after = bucket(first, role, table, 3), bucket(second, role, table, 3)
        assert after[0] == before[0] | {"signature": after[0]["signature"]}, (role, table)
        assert [s["rows"] for s in after] == [6, 2]
        path = layout.root / after[1]["file"]
        with duckdb.connect() as con:
            assert con.execute(f"select listing_id from '{path}'").fetchall() == [(36,), (37,)]
    # a bucket whose earlier rows changed too is written again whole, as one segment
    add(38, 39)
    _rehash(listings, "update listings set title = 'renamed' where listing_id = 31")
    third = publish("v3")
    assert [s["rows"] for s in bucket(third, "pii_reader", "listing_facts", 3)] == [9]
    # at most MAX_ARRIVALS segments: then the bucket is written again whole
    rows = []
    for listing in range(40, 40 + MAX_ARRIVALS + 1):  # bucket 4 (40-49), one listing at a time
        add(listing, listing + 1)
        manifest = publish(f"v{listing}")
        rows.append([s["rows"] for s in bucket(manifest, "pii_reader", "listing_facts", 4)])
    assert rows[MAX_ARRIVALS - 1] == [1] * MAX_ARRIVALS
    assert rows[MAX_ARRIVALS] == [MAX_ARRIVALS + 1]


def test_without_a_usable_lineage_a_publish_reads_every_bucket(
    tmp_path, listings, small_buckets, lineage, caplog
):
    caplog.set_level(logging.INFO, logger="dataplatform.publish.publish")
    _lineage_views(listings, "v1")
    publish_candidate(tmp_path, listings, "v1", {"logical_date": "x"}, dbt_manifest=lineage)
    # the manifest names a node the warehouse reads as files (a dbt source): no lineage
    manifest = json.loads(lineage.read_text())
    manifest["nodes"]["source.t.files"] = {"resource_type": "source", "schema": "lake"}
    manifest["parent_map"]["model.t.pii_reader_listing_facts"].append("source.t.files")
    lineage.write_text(json.dumps(manifest))
    _lineage_views(listings, "v2")
    caplog.clear()
    publish_candidate(tmp_path, listings, "v2", {"logical_date": "x"}, dbt_manifest=lineage)
    assert "4 of 16 buckets read" in caplog.text  # pii_reader.listing_facts only
    lineage.write_text("{not json")
    _lineage_views(listings, "v3")
    caplog.clear()
    publish_candidate(tmp_path, listings, "v3", {"logical_date": "x"}, dbt_manifest=lineage)
    assert "16 of 16 buckets read" in caplog.text
    for role, table in ROLE_TABLES:
        assert _differences(tmp_path, "v3", listings, role, table) == 0


def test_a_view_that_shows_what_row_hashes_leave_out_is_read_whole(
    tmp_path, listings, small_buckets, lineage, caplog
):
    caplog.set_level(logging.INFO, logger="dataplatform.publish.publish")
    _change(listings, f"alter table listings add column {BOOKKEEPING[0]} date")
    _rehash(listings, f"update listings set {BOOKKEEPING[0]} = date '2026-11-01'")
    _lineage_views(listings, "v1", title=f"title || {BOOKKEEPING[0]}")
    publish_candidate(tmp_path, listings, "v1", {"logical_date": "x"}, dbt_manifest=lineage)
    # a row rebuilt from a later batch: the same hash (bookkeeping aside), another title
    _rehash(
        listings, f"update listings set {BOOKKEEPING[0]} = date '2026-11-02' where listing_id = 3"
    )
    _lineage_views(listings, "v2", title=f"title || {BOOKKEEPING[0]}")
    caplog.clear()
    publish_candidate(tmp_path, listings, "v2", {"logical_date": "x"}, dbt_manifest=lineage)
    # the facts whole; not the training set, which does not show it (its rows are the same)
    assert "8 of 16 buckets read" in caplog.text
    for role, table in ROLE_TABLES:
        assert _differences(tmp_path, "v2", listings, role, table) == 0
